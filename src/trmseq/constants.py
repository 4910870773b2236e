"""Physical constants, residue masses and known modifications (monoisotopic, in Da).

Values agree with ``pyteomics.mass`` (nist_mass, std_aa_mass) and with Unimod; the tests check
them against pyteomics rather than against this file.
"""

PROTON = 1.00727646677
H2O = 18.0105646837
NH3 = 17.02654910101
CO = 27.99491461956
C13_DIFF = 1.0033548378  # 13C - 12C: the spacing of isotope peaks at charge 1

RESIDUE_MASSES: dict[str, float] = {
    "G": 57.02146372057,
    "A": 71.03711378471,
    "S": 87.03202840427,
    "P": 97.05276384885,
    "V": 99.06841391299,
    "T": 101.04767846841,
    "C": 103.00918478471,
    "L": 113.08406397713,
    "I": 113.08406397713,
    "N": 114.04292744114,
    "D": 115.02694302383,
    "Q": 128.05857750528,
    "K": 128.09496301399,
    "E": 129.04259308797,
    "M": 131.04048491299,
    "H": 137.05891185845,
    "F": 147.06841391299,
    "R": 156.10111102359,
    "Y": 163.06332853255,
    "W": 186.07931294986,
}

# name -> (Unimod accession number, monoisotopic mass delta). Used to resolve ProForma names and
# accessions and to write Unimod terms in mzTab; any other mass delta is still accepted as a number.
UNIMOD: dict[str, tuple[int, float]] = {
    "Acetyl": (1, 42.010565),
    "Carbamidomethyl": (4, 57.021464),
    "Carbamyl": (5, 43.005814),
    "Deamidated": (7, 0.984016),
    "Phospho": (21, 79.966331),
    "Ammonia-loss": (385, -17.026549),  # before Gln->pyro-Glu: the name written for -17.027
    "Glu->pyro-Glu": (27, -18.010565),
    "Gln->pyro-Glu": (28, -17.026549),
    "Methyl": (34, 14.01565),
    "Oxidation": (35, 15.994915),
    "Dimethyl": (36, 28.0313),
    "GG": (121, 114.042927),
    "iTRAQ4plex": (214, 144.102063),
    "TMT6plex": (737, 229.162932),
    "iTRAQ8plex": (730, 304.20536),
    "TMTpro": (2016, 304.207146),
}
