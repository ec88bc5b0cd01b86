"""Countries as CRM and ERP exports write them: ISO codes, English and native names, and the
sales region each lies in.

Real exports hold country codes (`DE`, `DEU`) as often as names in the user's language
(`Germany`, `Deutschland`, `Allemagne`, `México`, `USA`). `COUNTRIES` lists, per ISO 3166-1
country, its alpha-2 and alpha-3 codes, its default SalesRegion and the spellings seen in
practice; the connectors compare them accent-, case-, space- and punctuation-insensitively
(`sql.normalized`), so `Mexico`, `méxico` and `MEXICO` are one key. A spelling must name one
country only (tested): ambiguous words (`Congo`, `Guinea`) are not listed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COUNTRIES", "REGIONS", "REGION_BY_CODE", "Country", "spellings"]

# The sales regions of the default table, in the order the simulator numbers them.
REGIONS: tuple[str, ...] = ("North America", "EMEA", "APAC", "LATAM")
_REGION = {"NA": "North America", "EM": "EMEA", "AP": "APAC", "LA": "LATAM"}


@dataclass(frozen=True, slots=True)
class Country:
    """One ISO 3166-1 country: codes, default region, and the names it is written with."""

    alpha2: str
    alpha3: str
    region: str
    names: tuple[str, ...]  # English short name first, then other spellings


# alpha-2 alpha-3 region | English name | other spellings (native, official, common, other
# languages), one line per country
_TABLE = """
AD AND EM Andorra
AE ARE EM United Arab Emirates|UAE|U.A.E.|Emirates|الإمارات العربية المتحدة
AF AFG AP Afghanistan|افغانستان
AG ATG LA Antigua and Barbuda|Antigua & Barbuda
AI AIA LA Anguilla
AL ALB EM Albania|Shqipëria|Albanien
AM ARM EM Armenia|Հայաստան|Armenien
AO AGO EM Angola
AR ARG LA Argentina|Argentine|Argentinien|República Argentina
AS ASM AP American Samoa
AT AUT EM Austria|Österreich|Autriche
AU AUS AP Australia|Australien|Australie|Commonwealth of Australia
AW ABW LA Aruba
AX ALA EM Åland Islands|Aland
AZ AZE EM Azerbaijan|Azərbaycan
BA BIH EM Bosnia and Herzegovina|Bosnia & Herzegovina|Bosnia|Bosna i Hercegovina
BB BRB LA Barbados
BD BGD AP Bangladesh|বাংলাদেশ
BE BEL EM Belgium|Belgique|België|Belgien|Belgio|Bélgica
BF BFA EM Burkina Faso
BG BGR EM Bulgaria|България|Bulgarien|Bulgarie
BH BHR EM Bahrain|البحرين
BI BDI EM Burundi
BJ BEN EM Benin|Bénin
BL BLM LA Saint Barthélemy|St. Barthélemy
BM BMU NA Bermuda
BN BRN AP Brunei|Brunei Darussalam
BO BOL LA Bolivia|Plurinational State of Bolivia|Estado Plurinacional de Bolivia
BQ BES LA Bonaire, Sint Eustatius and Saba|Caribbean Netherlands|Bonaire
BR BRA LA Brazil|Brasil|Brésil|Brasilien|República Federativa do Brasil
BS BHS LA Bahamas|The Bahamas
BT BTN AP Bhutan
BV BVT EM Bouvet Island
BW BWA EM Botswana
BY BLR EM Belarus|Беларусь|Weißrussland
BZ BLZ LA Belize
CA CAN NA Canada|Kanada
CC CCK AP Cocos (Keeling) Islands|Cocos Islands
CD COD EM Democratic Republic of the Congo|DR Congo|DRC|Congo-Kinshasa|Congo, Democratic Republic of the|République démocratique du Congo
CF CAF EM Central African Republic|République centrafricaine
CG COG EM Republic of the Congo|Congo-Brazzaville|Congo, Republic of the|Congo Republic
CH CHE EM Switzerland|Schweiz|Suisse|Svizzera|Svizra|Confoederatio Helvetica|Suiza
CI CIV EM Côte d'Ivoire|Ivory Coast|Cote d Ivoire
CK COK AP Cook Islands
CL CHL LA Chile|Chili|República de Chile
CM CMR EM Cameroon|Cameroun|Kamerun
CN CHN AP China|中国|中华人民共和国|People's Republic of China|PRC|P.R. China|Chine
CO COL LA Colombia|Colombie|Kolumbien
CR CRI LA Costa Rica
CU CUB LA Cuba|Kuba
CV CPV EM Cabo Verde|Cape Verde
CW CUW LA Curaçao|Curacao
CX CXR AP Christmas Island
CY CYP EM Cyprus|Κύπρος|Zypern|Chypre
CZ CZE EM Czechia|Czech Republic|Česko|Česká republika|Tschechien|République tchèque
DE DEU EM Germany|Deutschland|Allemagne|Alemania|Germania|Bundesrepublik Deutschland|Federal Republic of Germany
DJ DJI EM Djibouti
DK DNK EM Denmark|Danmark|Dänemark|Danemark|Dinamarca
DM DMA LA Dominica
DO DOM LA Dominican Republic|República Dominicana
DZ DZA EM Algeria|Algérie|الجزائر
EC ECU LA Ecuador|Équateur
EE EST EM Estonia|Eesti|Estland
EG EGY EM Egypt|مصر|Ägypten|Égypte|Egipto
EH ESH EM Western Sahara
ER ERI EM Eritrea
ES ESP EM Spain|España|Espagne|Spanien|Spagna|Espanya|Reino de España
ET ETH EM Ethiopia|Äthiopien
FI FIN EM Finland|Suomi|Finnland|Finlande
FJ FJI AP Fiji
FK FLK LA Falkland Islands|Falklands|Islas Malvinas
FM FSM AP Micronesia|Federated States of Micronesia
FO FRO EM Faroe Islands|Føroyar
FR FRA EM France|Frankreich|Francia|République française|French Republic
GA GAB EM Gabon
GB GBR EM United Kingdom|UK|U.K.|Great Britain|Britain|England|Scotland|Wales|Northern Ireland|United Kingdom of Great Britain and Northern Ireland|Vereinigtes Königreich|Royaume-Uni|Reino Unido|Großbritannien
GD GRD LA Grenada
GE GEO EM Georgia|საქართველო|Georgien
GF GUF LA French Guiana|Guyane|Guyane française
GG GGY EM Guernsey
GH GHA EM Ghana
GI GIB EM Gibraltar
GL GRL NA Greenland|Kalaallit Nunaat|Grønland
GM GMB EM Gambia|The Gambia
GN GIN EM Guinea|Guinée|Republic of Guinea
GP GLP LA Guadeloupe
GQ GNQ EM Equatorial Guinea|Guinea Ecuatorial
GR GRC EM Greece|Ελλάδα|Ελλάς|Hellas|Griechenland|Grèce|Grecia
GS SGS LA South Georgia and the South Sandwich Islands
GT GTM LA Guatemala
GU GUM AP Guam
GW GNB EM Guinea-Bissau
GY GUY LA Guyana
HK HKG AP Hong Kong|香港|Hong Kong SAR|Hongkong
HM HMD AP Heard Island and McDonald Islands
HN HND LA Honduras
HR HRV EM Croatia|Hrvatska|Kroatien|Croatie
HT HTI LA Haiti|Haïti
HU HUN EM Hungary|Magyarország|Ungarn|Hongrie
ID IDN AP Indonesia|Indonésie|Indonesien
IE IRL EM Ireland|Éire|Eire|Irland|Irlande|Republic of Ireland
IL ISR EM Israel|ישראל|إسرائيل
IM IMN EM Isle of Man
IN IND AP India|Bharat|भारत|Indien|Inde
IO IOT AP British Indian Ocean Territory
IQ IRQ EM Iraq|العراق|Irak
IR IRN EM Iran|ایران|Islamic Republic of Iran
IS ISL EM Iceland|Ísland|Island
IT ITA EM Italy|Italia|Italie|Italien|Repubblica Italiana
JE JEY EM Jersey
JM JAM LA Jamaica
JO JOR EM Jordan|الأردن|Jordanien
JP JPN AP Japan|日本|日本国|Nippon|Nihon|Japon
KE KEN EM Kenya|Kenia
KG KGZ EM Kyrgyzstan|Kyrgyz Republic|Кыргызстан
KH KHM AP Cambodia|Kampuchea
KI KIR AP Kiribati
KM COM EM Comoros|Comores
KN KNA LA Saint Kitts and Nevis|St. Kitts and Nevis|St Kitts & Nevis
KP PRK AP North Korea|Democratic People's Republic of Korea|DPRK|조선
KR KOR AP South Korea|Korea|Republic of Korea|Korea, Republic of|대한민국|한국|Südkorea|Corée du Sud
KW KWT EM Kuwait|الكويت
KY CYM LA Cayman Islands
KZ KAZ EM Kazakhstan|Қазақстан|Казахстан|Kasachstan
LA LAO AP Laos|Lao People's Democratic Republic|Lao PDR
LB LBN EM Lebanon|لبنان|Liban|Libanon
LC LCA LA Saint Lucia|St. Lucia
LI LIE EM Liechtenstein
LK LKA AP Sri Lanka
LR LBR EM Liberia
LS LSO EM Lesotho
LT LTU EM Lithuania|Lietuva|Litauen
LU LUX EM Luxembourg|Luxemburg|Lëtzebuerg
LV LVA EM Latvia|Latvija|Lettland
LY LBY EM Libya|ليبيا|Libyen
MA MAR EM Morocco|Maroc|المغرب|Marokko|Marruecos
MC MCO EM Monaco
MD MDA EM Moldova|Republic of Moldova|Moldawien
ME MNE EM Montenegro|Crna Gora
MF MAF LA Saint Martin|Saint-Martin
MG MDG EM Madagascar
MH MHL AP Marshall Islands
MK MKD EM North Macedonia|Macedonia|Северна Македонија|Nordmazedonien
ML MLI EM Mali
MM MMR AP Myanmar|Burma
MN MNG AP Mongolia|Монгол Улс
MO MAC AP Macao|Macau|澳門
MP MNP AP Northern Mariana Islands
MQ MTQ LA Martinique
MR MRT EM Mauritania|Mauritanie
MS MSR LA Montserrat
MT MLT EM Malta
MU MUS EM Mauritius|Maurice
MV MDV AP Maldives
MW MWI EM Malawi
MX MEX LA Mexico|México|Mexique|Mexiko|Estados Unidos Mexicanos|United Mexican States
MY MYS AP Malaysia|Malaisie
MZ MOZ EM Mozambique|Moçambique|Mosambik
NA NAM EM Namibia|Namibie
NC NCL AP New Caledonia|Nouvelle-Calédonie
NE NER EM Niger
NF NFK AP Norfolk Island
NG NGA EM Nigeria
NI NIC LA Nicaragua
NL NLD EM Netherlands|The Netherlands|Nederland|Holland|Niederlande|Pays-Bas|Países Bajos|Paesi Bassi|Kingdom of the Netherlands
NO NOR EM Norway|Norge|Noreg|Norwegen|Norvège|Noruega
NP NPL AP Nepal|नेपाल
NR NRU AP Nauru
NU NIU AP Niue
NZ NZL AP New Zealand|Aotearoa|Neuseeland|Nouvelle-Zélande|Nueva Zelanda
OM OMN EM Oman|عُمان
PA PAN LA Panama|Panamá
PE PER LA Peru|Perú|Pérou
PF PYF AP French Polynesia|Polynésie française
PG PNG AP Papua New Guinea
PH PHL AP Philippines|Pilipinas|Filipinas|Philippinen
PK PAK AP Pakistan|پاکستان
PL POL EM Poland|Polska|Polen|Pologne|Polonia
PM SPM NA Saint Pierre and Miquelon|Saint-Pierre-et-Miquelon
PN PCN AP Pitcairn|Pitcairn Islands
PR PRI LA Puerto Rico
PS PSE EM Palestine|State of Palestine|فلسطين
PT PRT EM Portugal|República Portuguesa
PW PLW AP Palau
PY PRY LA Paraguay
QA QAT EM Qatar|قطر|Katar
RE REU EM Réunion|Reunion|La Réunion
RO ROU EM Romania|România|Rumänien|Roumanie|Rumania
RS SRB EM Serbia|Србија|Srbija|Serbien|Serbie
RU RUS EM Russia|Russian Federation|Россия|Российская Федерация|Russland|Russie|Rusia
RW RWA EM Rwanda|Ruanda
SA SAU EM Saudi Arabia|Kingdom of Saudi Arabia|KSA|السعودية|المملكة العربية السعودية|Saudi-Arabien|Arabie saoudite
SB SLB AP Solomon Islands
SC SYC EM Seychelles
SD SDN EM Sudan|السودان|Soudan
SE SWE EM Sweden|Sverige|Schweden|Suède|Suecia|Svezia
SG SGP AP Singapore|Singapur|Singapour|新加坡|Republic of Singapore
SH SHN EM Saint Helena, Ascension and Tristan da Cunha|Saint Helena|St. Helena
SI SVN EM Slovenia|Slovenija|Slowenien|Slovénie
SJ SJM EM Svalbard and Jan Mayen
SK SVK EM Slovakia|Slovensko|Slowakei|Slovaquie|Slovak Republic
SL SLE EM Sierra Leone
SM SMR EM San Marino
SN SEN EM Senegal|Sénégal
SO SOM EM Somalia|Soomaaliya
SR SUR LA Suriname|Surinam
SS SSD EM South Sudan
ST STP EM São Tomé and Príncipe|Sao Tome and Principe
SV SLV LA El Salvador
SX SXM LA Sint Maarten
SY SYR EM Syria|Syrian Arab Republic|سوريا|Syrien
SZ SWZ EM Eswatini|Swaziland
TC TCA LA Turks and Caicos Islands
TD TCD EM Chad|Tchad|Tschad
TF ATF EM French Southern Territories
TG TGO EM Togo
TH THA AP Thailand|ประเทศไทย|Thaïlande
TJ TJK EM Tajikistan|Тоҷикистон
TK TKL AP Tokelau
TL TLS AP Timor-Leste|East Timor
TM TKM EM Turkmenistan|Türkmenistan
TN TUN EM Tunisia|Tunisie|تونس|Tunesien
TO TON AP Tonga
TR TUR EM Türkiye|Turkey|Turkiye|Türkei|Turquie|Turquía
TT TTO LA Trinidad and Tobago|Trinidad & Tobago
TV TUV AP Tuvalu
TW TWN AP Taiwan|台灣|臺灣|Republic of China|Taiwan, Province of China|Chinese Taipei
TZ TZA EM Tanzania|United Republic of Tanzania|Tansania
UA UKR EM Ukraine|Україна|Ucrania
UG UGA EM Uganda
UM UMI NA United States Minor Outlying Islands
US USA NA United States|USA|U.S.A.|US|U.S.|United States of America|America|Vereinigte Staaten|États-Unis|Estados Unidos|Stati Uniti|EEUU|EE. UU.
UY URY LA Uruguay
UZ UZB EM Uzbekistan|Oʻzbekiston
VA VAT EM Holy See|Vatican|Vatican City|Città del Vaticano
VC VCT LA Saint Vincent and the Grenadines|St. Vincent and the Grenadines
VE VEN LA Venezuela|Bolivarian Republic of Venezuela
VG VGB LA British Virgin Islands|Virgin Islands, British
VI VIR LA U.S. Virgin Islands|US Virgin Islands|Virgin Islands, U.S.
VN VNM AP Vietnam|Viet Nam|Việt Nam
VU VUT AP Vanuatu
WF WLF AP Wallis and Futuna
WS WSM AP Samoa
XK XKX EM Kosovo|Kosova|Косово
YE YEM EM Yemen|اليمن|Jemen
YT MYT EM Mayotte
ZA ZAF EM South Africa|RSA|Republic of South Africa|Suid-Afrika|Südafrika|Afrique du Sud|Sudáfrica
ZM ZMB EM Zambia|Sambia
ZW ZWE EM Zimbabwe|Simbabwe
"""


def _parse(text: str) -> tuple[Country, ...]:
    """The table above as `Country` records."""
    out = []
    for line in text.strip().splitlines():
        head, _, rest = line.partition(" ")
        alpha3, region, names = rest.split(" ", 2)
        out.append(Country(head, alpha3, _REGION[region], tuple(names.split("|"))))
    return tuple(out)


COUNTRIES: tuple[Country, ...] = _parse(_TABLE)
REGION_BY_CODE: dict[str, str] = {c.alpha2: c.region for c in COUNTRIES}


def spellings() -> list[tuple[str, str, bool]]:
    """(spelling, alpha-2 code, is it an ISO code) for every code and name of every country."""
    return [
        (s, c.alpha2, is_code)
        for c in COUNTRIES
        for is_code, group in ((True, (c.alpha2, c.alpha3)), (False, c.names))
        for s in group
    ]
