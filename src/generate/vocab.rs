//! Word lists and weighted choices the generator draws from: names, companies,
//! countries, industries, job titles, sources, campaigns and assets.
//!
//! The lists are small but varied on purpose: several regions (with accents and other
//! non-ASCII letters), company names that repeat across countries, job titles that map
//! to a function and a seniority, and phone formats that differ by country and person —
//! the mess real lead data has.
//!
//! The countries (with their territories) and the lead sources (with their channels)
//! are the lead domain's, shared with import and the lifecycle commands: they live in
//! [`leadql_models::domain`] and are re-exported here with the name regions the
//! generator draws people's names from.

use rand::Rng;

pub use leadql_models::domain::{COUNTRIES, Country, NameRegion, SOURCES};

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

/// First word of the place in generated company names past the base names.
pub const PLACE_QUALIFIERS: &[&str] = &[
    "North", "South", "East", "West", "Upper", "Lower", "Central", "Grand", "New", "Old", "Royal",
    "High", "Inner", "Outer", "Great", "Little", "Far", "Middle", "Saint", "Fair",
];

/// Second word of the place in generated company names past the base names.
pub const PLACE_FEATURES: &[&str] = &[
    "Lake", "Bay", "Valley", "Hill", "Park", "Harbour", "Coast", "Delta", "Prairie", "Canyon",
    "Forest", "Island", "Glen", "Moor", "Heath", "Cliff", "Meadow", "Grove", "Marsh", "Dune",
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
