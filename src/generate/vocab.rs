//! Word lists and weighted choices the generator draws from: names, companies,
//! countries, industries, job titles, sources, campaigns and assets.
//!
//! The lists are small but varied on purpose: several regions (with accents and other
//! non-ASCII letters), company names that repeat across countries, job titles that map
//! to a function and a seniority, and phone formats that differ by country and person —
//! the mess real lead data has.

use rand::Rng;

/// Picks an item with probability proportional to its weight.
pub fn weighted<'a, T, R: Rng>(rng: &mut R, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.r#gen::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// Picks an item uniformly.
pub fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// A country leads and accounts can be in.
#[derive(Debug, Clone, Copy)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code.
    pub code: &'static str,
    /// Sales territory it belongs to.
    pub territory: &'static str,
    /// Which name list its people draw from.
    pub names: NameRegion,
    /// International dialling prefix, without `+`.
    pub dial: &'static str,
    /// Top-level domain of its companies.
    pub tld: &'static str,
    /// Local personal email providers (besides the global ones).
    pub local_mail: &'static [&'static str],
}

/// Groups of first and last names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRegion {
    /// English-speaking countries.
    English,
    /// German-speaking countries.
    German,
    /// France.
    French,
    /// Spain, Mexico.
    Spanish,
    /// Portugal, Brazil.
    Portuguese,
    /// Italy.
    Italian,
    /// Netherlands.
    Dutch,
    /// Sweden.
    Nordic,
    /// Poland.
    Polish,
    /// India.
    Indian,
    /// Japan.
    Japanese,
    /// Singapore.
    Chinese,
}

const fn country(
    code: &'static str,
    territory: &'static str,
    names: NameRegion,
    dial: &'static str,
    tld: &'static str,
    local_mail: &'static [&'static str],
) -> Country {
    Country {
        code,
        territory,
        names,
        dial,
        tld,
        local_mail,
    }
}

/// Countries with the share of leads they produce.
pub const COUNTRIES: &[(Country, f64)] = &[
    (
        country("US", "north_america", NameRegion::English, "1", "com", &[]),
        34.0,
    ),
    (
        country("CA", "north_america", NameRegion::English, "1", "ca", &[]),
        5.0,
    ),
    (
        country(
            "GB",
            "emea",
            NameRegion::English,
            "44",
            "co.uk",
            &["btinternet.com"],
        ),
        10.0,
    ),
    (
        country(
            "DE",
            "emea",
            NameRegion::German,
            "49",
            "de",
            &["gmx.de", "web.de", "t-online.de"],
        ),
        8.0,
    ),
    (
        country(
            "FR",
            "emea",
            NameRegion::French,
            "33",
            "fr",
            &["orange.fr", "free.fr"],
        ),
        6.0,
    ),
    (
        country("NL", "emea", NameRegion::Dutch, "31", "nl", &["ziggo.nl"]),
        3.0,
    ),
    (
        country(
            "ES",
            "emea",
            NameRegion::Spanish,
            "34",
            "es",
            &["telefonica.net"],
        ),
        3.0,
    ),
    (
        country(
            "IT",
            "emea",
            NameRegion::Italian,
            "39",
            "it",
            &["libero.it"],
        ),
        3.0,
    ),
    (
        country("SE", "emea", NameRegion::Nordic, "46", "se", &[]),
        2.0,
    ),
    (
        country(
            "PT",
            "emea",
            NameRegion::Portuguese,
            "351",
            "pt",
            &["sapo.pt"],
        ),
        2.0,
    ),
    (
        country(
            "PL",
            "emea",
            NameRegion::Polish,
            "48",
            "pl",
            &["wp.pl", "onet.pl"],
        ),
        2.0,
    ),
    (
        country("ZA", "emea", NameRegion::English, "27", "co.za", &[]),
        1.0,
    ),
    (
        country(
            "IN",
            "apac",
            NameRegion::Indian,
            "91",
            "in",
            &["rediffmail.com"],
        ),
        6.0,
    ),
    (
        country(
            "AU",
            "apac",
            NameRegion::English,
            "61",
            "com.au",
            &["bigpond.com"],
        ),
        4.0,
    ),
    (
        country("JP", "apac", NameRegion::Japanese, "81", "co.jp", &[]),
        3.0,
    ),
    (
        country("SG", "apac", NameRegion::Chinese, "65", "com.sg", &[]),
        2.0,
    ),
    (
        country(
            "BR",
            "latin_america",
            NameRegion::Portuguese,
            "55",
            "com.br",
            &["uol.com.br"],
        ),
        4.0,
    ),
    (
        country(
            "MX",
            "latin_america",
            NameRegion::Spanish,
            "52",
            "com.mx",
            &[],
        ),
        2.0,
    ),
];

/// Global personal email providers.
pub const PERSONAL_MAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
];

/// First names of a region.
pub fn first_names(region: NameRegion) -> &'static [&'static str] {
    use NameRegion::*;
    match region {
        English => &[
            "James",
            "Mary",
            "Robert",
            "Patricia",
            "John",
            "Jennifer",
            "Michael",
            "Linda",
            "David",
            "Elizabeth",
            "William",
            "Sarah",
            "Richard",
            "Jessica",
            "Thomas",
            "Karen",
            "Daniel",
            "Emily",
            "Matthew",
            "Olivia",
            "Chloe",
            "Zoë",
            "Liam",
            "Aisha",
            "Sean",
            "Siobhán",
        ],
        German => &[
            "Jürgen",
            "Anna",
            "Lukas",
            "Katrin",
            "Stefan",
            "Sabine",
            "Maximilian",
            "Jörg",
            "Ute",
            "Felix",
            "Lena",
            "Björn",
            "Sören",
            "Petra",
            "Tobias",
            "Julia",
            "Günter",
            "Hannah",
        ],
        French => &[
            "François",
            "Camille",
            "Hélène",
            "Julien",
            "Élodie",
            "Nicolas",
            "Chloé",
            "Mathieu",
            "Sébastien",
            "Léa",
            "Thomas",
            "Céline",
            "Antoine",
            "Inès",
            "Gaëlle",
            "Pierre",
        ],
        Spanish => &[
            "José",
            "María",
            "Javier",
            "Lucía",
            "Carlos",
            "Sofía",
            "Alejandro",
            "Carmen",
            "Andrés",
            "Paula",
            "Íñigo",
            "Begoña",
            "Diego",
            "Valentina",
            "Raúl",
            "Marta",
        ],
        Portuguese => &[
            "João",
            "Ana",
            "Pedro",
            "Mariana",
            "Luís",
            "Beatriz",
            "Gonçalo",
            "Inês",
            "Tiago",
            "Carolina",
            "Rafael",
            "Fernanda",
            "Thiago",
            "Letícia",
            "Vinícius",
            "Gabriela",
        ],
        Italian => &[
            "Giuseppe",
            "Giulia",
            "Marco",
            "Francesca",
            "Luca",
            "Chiara",
            "Alessandro",
            "Sara",
            "Matteo",
            "Elena",
            "Niccolò",
            "Martina",
            "Davide",
            "Federica",
        ],
        Dutch => &[
            "Daan", "Sanne", "Bram", "Lotte", "Joost", "Femke", "Sem", "Anouk", "Pieter", "Eline",
            "Thijs", "Marloes",
        ],
        Nordic => &[
            "Erik", "Karin", "Lars", "Åsa", "Anders", "Maja", "Björn", "Ingrid", "Oskar", "Elsa",
            "Sven", "Linnéa",
        ],
        Polish => &[
            "Łukasz",
            "Agnieszka",
            "Paweł",
            "Małgorzata",
            "Piotr",
            "Katarzyna",
            "Michał",
            "Zofia",
            "Tomasz",
            "Joanna",
            "Grzegorz",
            "Ewa",
        ],
        Indian => &[
            "Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Rahul",
            "Divya", "Sanjay", "Meera", "Karthik", "Pooja",
        ],
        Japanese => &[
            "Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Takumi", "Yuna", "Kenji", "Sakura",
            "Daiki", "Mei",
        ],
        Chinese => &[
            "Wei", "Mei Ling", "Jun", "Hui Min", "Kai", "Xin Yi", "Jia Hao", "Li Na", "Zhi Wei",
            "Shu Fen",
        ],
    }
}

/// Last names of a region.
pub fn last_names(region: NameRegion) -> &'static [&'static str] {
    use NameRegion::*;
    match region {
        English => &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White",
            "Harris", "Clark", "Lewis", "O'Brien", "McDonald", "Nguyen", "Patel", "Kowalski",
        ],
        German => &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Bauer",
            "Richter",
            "Klein",
            "Wolf",
            "Schröder",
            "Neumann",
        ],
        French => &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Lefèvre", "Girard", "Fournier", "Lambert", "Rousseau", "Mercier",
        ],
        Spanish => &[
            "García",
            "Rodríguez",
            "González",
            "Fernández",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Martín",
            "Jiménez",
            "Ruiz",
            "Hernández",
            "Díaz",
            "Muñoz",
            "Álvarez",
        ],
        Portuguese => &[
            "Silva",
            "Santos",
            "Ferreira",
            "Pereira",
            "Oliveira",
            "Costa",
            "Rodrigues",
            "Martins",
            "Jesus",
            "Sousa",
            "Fernandes",
            "Gonçalves",
            "Gomes",
            "Lopes",
            "Marques",
            "Araújo",
        ],
        Italian => &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca",
        ],
        Dutch => &[
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Janssen",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
            "Mulder",
        ],
        Nordic => &[
            "Andersson",
            "Johansson",
            "Karlsson",
            "Nilsson",
            "Eriksson",
            "Larsson",
            "Olsson",
            "Persson",
            "Svensson",
            "Gustafsson",
            "Löfgren",
            "Åberg",
        ],
        Polish => &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
        ],
        Indian => &[
            "Sharma",
            "Verma",
            "Gupta",
            "Patel",
            "Reddy",
            "Iyer",
            "Nair",
            "Singh",
            "Kumar",
            "Das",
            "Mehta",
            "Joshi",
            "Rao",
            "Chatterjee",
        ],
        Japanese => &[
            "Sato",
            "Suzuki",
            "Takahashi",
            "Tanaka",
            "Watanabe",
            "Ito",
            "Yamamoto",
            "Nakamura",
            "Kobayashi",
            "Kato",
            "Yoshida",
            "Yamada",
        ],
        Chinese => &[
            "Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Ang",
        ],
    }
}

/// Replaces the accented letters used in the name lists by their ASCII base, drops
/// spaces and apostrophes: what people do when they make an email address.
pub fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        let mapped: &str = match ch {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ą' => "a",
            'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' | 'Ą' => "A",
            'é' | 'è' | 'ê' | 'ë' | 'ę' => "e",
            'É' | 'È' | 'Ê' | 'Ë' | 'Ę' => "E",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'Í' | 'Ì' | 'Î' | 'Ï' => "I",
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => "o",
            'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' | 'Ø' => "O",
            'ú' | 'ù' | 'û' | 'ü' => "u",
            'Ú' | 'Ù' | 'Û' | 'Ü' => "U",
            'ñ' | 'ń' => "n",
            'Ñ' | 'Ń' => "N",
            'ç' | 'ć' => "c",
            'Ç' | 'Ć' => "C",
            'ß' => "ss",
            'ł' => "l",
            'Ł' => "L",
            'ś' => "s",
            'Ś' => "S",
            'ź' | 'ż' => "z",
            'Ź' | 'Ż' => "Z",
            ' ' | '\'' => "",
            c if c.is_ascii() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(mapped);
    }
    out
}

/// Industries with their share of accounts.
pub const INDUSTRIES: &[(&str, f64)] = &[
    ("Software", 14.0),
    ("Financial Services", 11.0),
    ("Healthcare", 9.0),
    ("Manufacturing", 11.0),
    ("Retail", 9.0),
    ("Professional Services", 9.0),
    ("Telecommunications", 4.0),
    ("Media", 4.0),
    ("Education", 6.0),
    ("Government", 4.0),
    ("Energy", 4.0),
    ("Transportation", 5.0),
    ("Real Estate", 4.0),
    ("Nonprofit", 3.0),
    ("Hospitality", 3.0),
];

/// First part of generated company names.
pub const COMPANY_ROOTS: &[&str] = &[
    "North",
    "Blue",
    "Silver",
    "Bright",
    "Green",
    "Red",
    "Iron",
    "Stone",
    "River",
    "Summit",
    "Cedar",
    "Oak",
    "Falcon",
    "Harbor",
    "Pioneer",
    "Atlas",
    "Nova",
    "Vertex",
    "Apex",
    "Lumen",
    "Orbit",
    "Quantum",
    "Crystal",
    "Golden",
    "Pacific",
    "Alpine",
    "Coastal",
    "Urban",
    "Prime",
    "Core",
    "Evergreen",
    "Sterling",
    "Horizon",
    "Beacon",
    "Meridian",
    "Polar",
    "Crescent",
    "Granite",
    "Maple",
    "Willow",
];

/// Second part of generated company names.
pub const COMPANY_NOUNS: &[&str] = &[
    "wind", "bridge", "field", "point", "gate", "path", "line", "works", "light", "peak", "wave",
    "stone", "crest", "ridge", "view", "brook", "haven", "forge", "mark", "star", "spring", "vale",
    "shore", "dale", "ford", "mount", "port", "wood", "well", "side",
];

/// Descriptive word of generated company names, by industry.
pub fn company_descriptor(industry: &str) -> &'static [&'static str] {
    match industry {
        "Software" => &[
            "Software",
            "Systems",
            "Labs",
            "Technologies",
            "Digital",
            "Cloud",
        ],
        "Financial Services" => &[
            "Capital",
            "Bank",
            "Financial",
            "Insurance",
            "Partners",
            "Asset Management",
        ],
        "Healthcare" => &["Health", "Medical", "Clinics", "Pharma", "Care"],
        "Manufacturing" => &[
            "Industries",
            "Manufacturing",
            "Components",
            "Machinery",
            "Materials",
        ],
        "Retail" => &["Retail", "Stores", "Brands", "Outfitters", "Market"],
        "Professional Services" => &["Consulting", "Advisors", "Group", "Associates", "Legal"],
        "Telecommunications" => &["Telecom", "Networks", "Communications", "Mobile"],
        "Media" => &["Media", "Studios", "Publishing", "Entertainment"],
        "Education" => &["University", "Academy", "Learning", "College"],
        "Government" => &["County", "City Council", "Agency", "Authority"],
        "Energy" => &["Energy", "Power", "Utilities", "Renewables"],
        "Transportation" => &["Logistics", "Freight", "Transport", "Airlines"],
        "Real Estate" => &["Properties", "Realty", "Estates", "Developments"],
        "Nonprofit" => &["Foundation", "Trust", "Alliance", "Society"],
        _ => &["Hotels", "Resorts", "Hospitality", "Restaurants"],
    }
}

/// Legal-form suffixes by country.
pub fn legal_suffixes(country: &str) -> &'static [&'static str] {
    match country {
        "US" | "CA" => &["Inc.", "LLC", "Corp.", ""],
        "GB" | "ZA" | "AU" | "IN" | "SG" => &["Ltd", "Limited", "plc", ""],
        "DE" => &["GmbH", "AG", "SE"],
        "FR" => &["SA", "SAS", "SARL"],
        "NL" => &["B.V.", "N.V."],
        "ES" | "MX" => &["S.A.", "S.L.", "S.A. de C.V."],
        "IT" => &["S.p.A.", "S.r.l."],
        "SE" => &["AB"],
        "PT" | "BR" => &["Lda", "S.A.", "Ltda."],
        "PL" => &["Sp. z o.o.", "S.A."],
        "JP" => &["K.K.", "Co., Ltd."],
        _ => &[""],
    }
}

/// Job functions with their share of leads.
pub const FUNCTIONS: &[(&str, f64)] = &[
    ("marketing", 22.0),
    ("sales", 15.0),
    ("it", 15.0),
    ("engineering", 12.0),
    ("data", 8.0),
    ("operations", 10.0),
    ("finance", 7.0),
    ("hr", 5.0),
    ("executive", 6.0),
];

/// How a function is written inside a job title.
pub fn function_word(function: &str) -> &'static str {
    match function {
        "marketing" => "Marketing",
        "sales" => "Sales",
        "it" => "IT",
        "engineering" => "Engineering",
        "data" => "Data",
        "operations" => "Operations",
        "finance" => "Finance",
        "hr" => "Human Resources",
        _ => "Business",
    }
}

/// Title templates for a seniority; `{}` stands for the function word.
pub fn title_templates(seniority: &str) -> &'static [&'static str] {
    match seniority {
        "entry" => &[
            "{} Coordinator",
            "{} Assistant",
            "Junior {} Analyst",
            "{} Intern",
        ],
        "mid" => &[
            "{} Specialist",
            "{} Analyst",
            "{} Associate",
            "{} Consultant",
        ],
        "senior" => &[
            "Senior {} Specialist",
            "Senior {} Analyst",
            "Lead {} Consultant",
            "{} Lead",
        ],
        "manager" => &["{} Manager", "Senior {} Manager", "{} Team Lead"],
        "director" => &["Director of {}", "{} Director", "Head of {}"],
        "vp" => &["VP {}", "Vice President, {}", "SVP {}"],
        _ => &["Chief {} Officer"],
    }
}

/// The C-level title of a function.
pub fn chief_title(function: &str) -> &'static str {
    match function {
        "marketing" => "CMO",
        "sales" => "Chief Revenue Officer",
        "it" => "CIO",
        "engineering" => "CTO",
        "data" => "Chief Data Officer",
        "operations" => "COO",
        "finance" => "CFO",
        "hr" => "Chief People Officer",
        _ => "CEO",
    }
}

/// Lead sources with their channel and share of leads.
pub const SOURCES: &[((&str, &str), f64)] = &[
    (("web_form", "web"), 22.0),
    (("paid_search", "paid"), 14.0),
    (("organic_search", "web"), 12.0),
    (("social_linkedin", "social"), 10.0),
    (("event", "event"), 8.0),
    (("webinar", "event"), 8.0),
    (("referral", "partner"), 4.0),
    (("partner", "partner"), 5.0),
    (("content_syndication", "paid"), 8.0),
    (("purchased_list", "list"), 9.0),
];

/// Products and topics campaigns are about.
pub const TOPICS: &[&str] = &[
    "Customer 360",
    "AI Lead Scoring",
    "Data Platform",
    "Marketing Automation",
    "Revenue Analytics",
    "Privacy & Consent",
];

/// Cities where events take place.
pub const EVENT_CITIES: &[&str] = &[
    "London",
    "Berlin",
    "Paris",
    "New York",
    "Chicago",
    "San Francisco",
    "Toronto",
    "Madrid",
    "Amsterdam",
    "Stockholm",
    "Mumbai",
    "Sydney",
    "Tokyo",
    "São Paulo",
    "Singapore",
];

/// Gated content pieces.
pub const CONTENT: &[&str] = &[
    "ebook-lead-scoring-101",
    "report-state-of-b2b-marketing",
    "whitepaper-consent-first-marketing",
    "guide-predictive-scoring",
    "checklist-crm-data-quality",
    "case-study-retail",
    "case-study-banking",
    "benchmark-conversion-rates",
];

/// Website pages (other than pricing).
pub const PAGES: &[&str] = &[
    "/",
    "/product",
    "/product/scoring",
    "/product/journeys",
    "/customers",
    "/blog/lead-grading",
    "/blog/intent-data",
    "/blog/consent",
    "/docs",
    "/integrations",
    "/about",
    "/careers",
];

/// Web forms and how often a form submission is each, for a low-intent lead.
pub const FORMS: &[&str] = &[
    "newsletter-signup",
    "contact-us",
    "demo-request",
    "trial-signup",
];

/// Data vendors purchased lists come from.
pub const LIST_VENDORS: &[&str] = &[
    "ZoomInfo Q",
    "Apollo Export",
    "Trade Show Attendees",
    "Industry Directory",
];

/// Partners that refer leads.
pub const PARTNERS: &[&str] = &[
    "Contoso Consulting",
    "Fabrikam Solutions",
    "Northwind Integrators",
    "Tailspin Partners",
];

/// A phone number for a country, in one of the formats people type.
pub fn phone<R: Rng>(rng: &mut R, c: &Country) -> String {
    let d = |rng: &mut R, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    match c.dial {
        "1" => {
            let area = format!("{}{}", rng.gen_range(2..10), d(rng, 2));
            let (a, b) = (d(rng, 3), d(rng, 4));
            match rng.gen_range(0..5) {
                0 => format!("+1 {area} {a} {b}"),
                1 => format!("({area}) {a}-{b}"),
                2 => format!("{area}-{a}-{b}"),
                3 => format!("+1{area}{a}{b}"),
                _ => format!("{area}.{a}.{b}"),
            }
        }
        dial => {
            let area = format!("{}{}", rng.gen_range(1..10), d(rng, 1));
            let (a, b) = (d(rng, 3), d(rng, 4));
            match rng.gen_range(0..4) {
                0 => format!("+{dial} {area} {a} {b}"),
                1 => format!("0{area} {a}{b}"),
                2 => format!("+{dial}{area}{a}{b}"),
                _ => format!("00{dial} ({area}) {a}-{b}"),
            }
        }
    }
}
