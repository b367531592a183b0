//! People's names for generated leads, with the collision rates of real ones.
//!
//! Common names are common and rare names are rare: first and last names are drawn by
//! frequency rank (weight `1 / (rank + 10)`) from a region's list, which starts with
//! the region's common names in [`vocab`] and goes on with the ones below. Last names
//! also come composed from a root and an ending, the way many are made
//! (`Lind` + `berg`, `Yama` + `moto`, `Kowal` + `czyk`), and in the Spanish and
//! Portuguese regions as the two family names people carry (`García López`). Some
//! people carry a name from another region.
//!
//! Two random leads of a region then share a full name about once in 9,000 to 17,000
//! pairs (once in 3,400 in the Indian region, whose list is not composed), where the
//! short common lists alone made it once in 144 to 624. Different people with one name
//! at one company become the exception they are in a real CRM, and a duplicate
//! detector's precision means something at a million leads.
//!
//! Names come from the lead's own [`Stream::Name`] stream, so drawing them does not
//! move any other draw of the lead.

use std::sync::OnceLock;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::rng::{Stream, entity_rng};
use super::vocab::{self, NameRegion};

/// Every region: the ones a name from elsewhere comes from.
const REGIONS: [NameRegion; 12] = [
    NameRegion::English,
    NameRegion::German,
    NameRegion::French,
    NameRegion::Spanish,
    NameRegion::Portuguese,
    NameRegion::Italian,
    NameRegion::Dutch,
    NameRegion::Nordic,
    NameRegion::Polish,
    NameRegion::Indian,
    NameRegion::Japanese,
    NameRegion::Chinese,
];

/// A region's names below its common ones, and how it composes last names.
struct Region {
    /// First names after [`vocab::first_names`], by falling frequency.
    first: &'static [&'static str],
    /// Last names after [`vocab::last_names`], by falling frequency.
    last: &'static [&'static str],
    /// How composed last names are made.
    composed: Composed,
    /// Syllables two-syllable given names are made of (`Xiao` + `Ming`), if any.
    given: &'static [&'static str],
}

/// How a region composes last names.
enum Composed {
    /// A root and an ending written together.
    Joined(&'static [&'static str], &'static [&'static str]),
    /// Two family names from the region's list (father's, then mother's).
    TwoFamilyNames,
    /// Not at all: the list only.
    None,
}

fn region(region: NameRegion) -> &'static Region {
    use NameRegion::*;
    match region {
        English => &Region {
            first: &[
                "Christopher",
                "Barbara",
                "Joseph",
                "Susan",
                "Charles",
                "Margaret",
                "Anthony",
                "Lisa",
                "Mark",
                "Nancy",
                "Paul",
                "Sandra",
                "Steven",
                "Ashley",
                "Andrew",
                "Kimberly",
                "Joshua",
                "Donna",
                "Kevin",
                "Michelle",
                "Brian",
                "Amanda",
                "George",
                "Melissa",
                "Edward",
                "Rebecca",
                "Ryan",
                "Laura",
                "Jacob",
                "Hannah",
                "Nathan",
                "Rachel",
                "Oliver",
                "Grace",
                "Harry",
                "Charlotte",
                "Connor",
                "Megan",
                "Declan",
                "Niamh",
            ],
            last: &[
                "Walker",
                "Young",
                "Allen",
                "King",
                "Wright",
                "Scott",
                "Hill",
                "Green",
                "Adams",
                "Baker",
                "Nelson",
                "Carter",
                "Mitchell",
                "Roberts",
                "Turner",
                "Phillips",
                "Campbell",
                "Parker",
                "Evans",
                "Edwards",
                "Collins",
                "Stewart",
                "Morris",
                "Murphy",
                "Cook",
                "Rogers",
                "Morgan",
                "Cooper",
                "Peterson",
                "Reed",
                "Bailey",
                "Kelly",
                "Howard",
                "Ward",
                "Cox",
                "Richardson",
                "Wood",
                "Watson",
                "Brooks",
                "Bennett",
                "Gray",
                "Hughes",
                "Price",
                "Sanders",
                "Myers",
                "Long",
                "Ross",
                "Foster",
            ],
            given: &[],
            composed: Composed::Joined(
                &[
                    "Ash", "Brad", "Brook", "Clay", "Crom", "Dun", "Elm", "Fair", "Gold", "Hal",
                    "Hart", "Holl", "Kings", "Lang", "Mar", "Mid", "North", "Oak", "Pem", "Ray",
                    "Red", "Sher", "Stan", "Thorn", "Wal", "West", "Whit", "Wood", "Bur", "Cran",
                ],
                &[
                    "ford", "ton", "wood", "ley", "field", "well", "by", "worth", "stone", "ham",
                    "wick", "more",
                ],
            ),
        },
        German => &Region {
            first: &[
                "Andreas",
                "Monika",
                "Michael",
                "Claudia",
                "Thomas",
                "Susanne",
                "Markus",
                "Nicole",
                "Christian",
                "Stefanie",
                "Matthias",
                "Andrea",
                "Frank",
                "Birgit",
                "Dirk",
                "Silke",
                "Jan",
                "Laura",
                "Jonas",
                "Lea",
                "Leon",
                "Marie",
                "Paul",
                "Sophie",
                "Niklas",
                "Emma",
                "Florian",
                "Miriam",
                "Sebastian",
                "Johanna",
                "Benedikt",
                "Franziska",
                "Moritz",
                "Charlotte",
                "Philipp",
                "Greta",
                "Wolfgang",
                "Helga",
                "Dieter",
                "Ursula",
            ],
            last: &[
                "Schwarz",
                "Zimmermann",
                "Braun",
                "Krüger",
                "Hofmann",
                "Hartmann",
                "Lange",
                "Schmitt",
                "Werner",
                "Schmitz",
                "Krause",
                "Meier",
                "Lehmann",
                "Schmid",
                "Schulze",
                "Maier",
                "Köhler",
                "Herrmann",
                "König",
                "Walter",
                "Mayer",
                "Huber",
                "Kaiser",
                "Fuchs",
                "Peters",
                "Lang",
                "Scholz",
                "Möller",
                "Weiß",
                "Jung",
                "Hahn",
                "Vogel",
            ],
            given: &[],
            composed: Composed::Joined(
                &[
                    "Alt", "Bach", "Berg", "Brand", "Eich", "Feld", "Gold", "Grün", "Hof", "Holz",
                    "Kirch", "Lind", "Mühl", "Neu", "Ober", "Rosen", "Schön", "Stein", "Wald",
                    "Weiden", "Wiesen", "Winter", "Sommer", "Haber", "Born", "Hage",
                ],
                &[
                    "mann", "berg", "er", "bauer", "meier", "hauser", "stein", "feld", "huber",
                    "hofer", "ner", "wald",
                ],
            ),
        },
        French => &Region {
            first: &[
                "Marie",
                "Jean",
                "Nathalie",
                "Philippe",
                "Isabelle",
                "Michel",
                "Sylvie",
                "Alain",
                "Catherine",
                "Patrick",
                "Sophie",
                "Christophe",
                "Valérie",
                "Laurent",
                "Sandrine",
                "Frédéric",
                "Aurélie",
                "Olivier",
                "Émilie",
                "David",
                "Julie",
                "Alexandre",
                "Manon",
                "Hugo",
                "Clara",
                "Louis",
                "Emma",
                "Gabriel",
                "Jade",
                "Arthur",
                "Louise",
                "Raphaël",
                "Zoé",
                "Maxime",
                "Margaux",
                "Romain",
                "Anaïs",
                "Guillaume",
                "Océane",
                "Benoît",
            ],
            last: &[
                "Blanc",
                "Guérin",
                "Boyer",
                "Garnier",
                "Chevalier",
                "François",
                "Legrand",
                "Gauthier",
                "Garcia",
                "Perrin",
                "Robin",
                "Clément",
                "Morin",
                "Nicolas",
                "Henry",
                "Roussel",
                "Mathieu",
                "Gautier",
                "Masson",
                "Marchand",
                "Duval",
                "Denis",
                "Dumont",
                "Marie",
                "Lemaire",
                "Noël",
                "Meyer",
                "Dufour",
                "Meunier",
                "Brun",
                "Blanchard",
                "Giraud",
            ],
            given: &[],
            composed: Composed::Joined(
                &[
                    "Beau", "Bel", "Bon", "Chau", "Du", "Fon", "Gran", "La", "Le", "Mont", "Petit",
                    "Ro", "Ville", "Lau", "Mar", "Bou", "Char", "Fer",
                ],
                &[
                    "champ", "mont", "val", "bois", "pré", "lac", "chet", "rand", "court", "lier",
                    "ville",
                ],
            ),
        },
        Spanish => &Region {
            first: &[
                "Antonio",
                "Isabel",
                "Manuel",
                "Laura",
                "Francisco",
                "Cristina",
                "David",
                "Ana",
                "Juan",
                "Pilar",
                "Miguel",
                "Elena",
                "Pablo",
                "Rosa",
                "Sergio",
                "Raquel",
                "Jorge",
                "Silvia",
                "Fernando",
                "Beatriz",
                "Luis",
                "Alba",
                "Hugo",
                "Daniela",
                "Mateo",
                "Martina",
                "Álvaro",
                "Irene",
                "Adrián",
                "Nerea",
                "Rubén",
                "Claudia",
                "Gonzalo",
                "Ximena",
                "Emilio",
                "Guadalupe",
                "Ricardo",
                "Patricia",
                "Héctor",
                "Noelia",
            ],
            last: &[
                "Moreno",
                "Romero",
                "Alonso",
                "Gutiérrez",
                "Navarro",
                "Torres",
                "Domínguez",
                "Vázquez",
                "Ramos",
                "Gil",
                "Ramírez",
                "Serrano",
                "Blanco",
                "Molina",
                "Morales",
                "Suárez",
                "Ortega",
                "Delgado",
                "Castro",
                "Ortiz",
                "Rubio",
                "Marín",
                "Sanz",
                "Núñez",
                "Iglesias",
                "Medina",
                "Garrido",
                "Cortés",
                "Castillo",
                "Santos",
                "Lozano",
                "Guerrero",
                "Cano",
                "Prieto",
                "Méndez",
                "Cruz",
                "Flores",
                "Herrera",
                "Peña",
                "León",
            ],
            given: &[],
            composed: Composed::TwoFamilyNames,
        },
        Portuguese => &Region {
            first: &[
                "Maria",
                "José",
                "Francisco",
                "Juliana",
                "Antônio",
                "Camila",
                "Lucas",
                "Amanda",
                "Gabriel",
                "Bruna",
                "Matheus",
                "Larissa",
                "Gustavo",
                "Patrícia",
                "Felipe",
                "Vanessa",
                "Rodrigo",
                "Aline",
                "Bruno",
                "Daniela",
                "Miguel",
                "Leonor",
                "Duarte",
                "Matilde",
                "Afonso",
                "Rita",
                "Henrique",
                "Sofia",
                "Diogo",
                "Catarina",
                "Rui",
                "Joana",
                "Nuno",
                "Marta",
                "Eduardo",
                "Helena",
                "André",
                "Raquel",
                "Fábio",
                "Lúcia",
            ],
            last: &[
                "Almeida",
                "Ribeiro",
                "Carvalho",
                "Teixeira",
                "Barbosa",
                "Rocha",
                "Dias",
                "Nascimento",
                "Andrade",
                "Moreira",
                "Nunes",
                "Soares",
                "Vieira",
                "Monteiro",
                "Cardoso",
                "Mendes",
                "Cavalcanti",
                "Castro",
                "Campos",
                "Pinto",
                "Freitas",
                "Correia",
                "Machado",
                "Azevedo",
                "Lima",
                "Batista",
                "Melo",
                "Coelho",
                "Fonseca",
                "Leite",
                "Borges",
                "Tavares",
                "Brandão",
                "Sampaio",
                "Cunha",
                "Moura",
                "Reis",
                "Matos",
                "Farias",
                "Pacheco",
            ],
            given: &[],
            composed: Composed::TwoFamilyNames,
        },
        Italian => &Region {
            first: &[
                "Francesco",
                "Anna",
                "Antonio",
                "Maria",
                "Giovanni",
                "Laura",
                "Roberto",
                "Paola",
                "Andrea",
                "Valentina",
                "Stefano",
                "Silvia",
                "Lorenzo",
                "Alessia",
                "Simone",
                "Roberta",
                "Fabio",
                "Serena",
                "Paolo",
                "Cristina",
                "Riccardo",
                "Giorgia",
                "Leonardo",
                "Aurora",
                "Tommaso",
                "Beatrice",
                "Gabriele",
                "Alice",
                "Mattia",
                "Ginevra",
                "Emanuele",
                "Ilaria",
                "Pietro",
                "Noemi",
                "Salvatore",
                "Rosa",
                "Vincenzo",
                "Carla",
                "Massimo",
                "Daniela",
            ],
            last: &[
                "Costa",
                "Fontana",
                "Caruso",
                "Mancini",
                "Rizzo",
                "Lombardi",
                "Moretti",
                "Barbieri",
                "Galli",
                "Martini",
                "Leone",
                "Longo",
                "Gentile",
                "Martinelli",
                "Vitale",
                "Serra",
                "Coppola",
                "De Santis",
                "D'Angelo",
                "Marchetti",
                "Parisi",
                "Villa",
                "Conte",
                "Ferraro",
                "Ferri",
                "Fabbri",
                "Bianco",
                "Marini",
                "Grasso",
                "Valentini",
                "Messina",
                "Sala",
            ],
            given: &[],
            composed: Composed::Joined(
                &[
                    "Bel", "Bianch", "Cap", "Carl", "Fior", "Gall", "Giust", "Lomb", "Marc",
                    "Mart", "Ross", "Sant", "Ser", "Tor", "Vent", "Zan", "Pell", "Bald",
                ],
                &[
                    "ini", "elli", "etti", "oni", "ucci", "otti", "ino", "ello", "azzi", "one",
                ],
            ),
        },
        Dutch => &Region {
            first: &[
                "Jan",
                "Maria",
                "Kees",
                "Anna",
                "Willem",
                "Johanna",
                "Hendrik",
                "Cornelia",
                "Gerrit",
                "Wilhelmina",
                "Ruben",
                "Fleur",
                "Lars",
                "Iris",
                "Jesse",
                "Sophie",
                "Luuk",
                "Emma",
                "Milan",
                "Julia",
                "Stijn",
                "Lisa",
                "Niels",
                "Esther",
                "Koen",
                "Maaike",
                "Wouter",
                "Ilse",
                "Jeroen",
                "Marieke",
                "Bas",
                "Inge",
                "Roel",
                "Noor",
                "Tim",
                "Evi",
                "Sander",
                "Mirjam",
                "Teun",
                "Roos",
            ],
            last: &[
                "de Groot",
                "Bos",
                "Vos",
                "Peters",
                "Hendriks",
                "van Leeuwen",
                "Dekker",
                "Brouwer",
                "de Wit",
                "Dijkstra",
                "Smits",
                "de Graaf",
                "van der Meer",
                "van der Linden",
                "Kok",
                "Jacobs",
                "de Haan",
                "Vermeulen",
                "van den Heuvel",
                "van der Veen",
                "van den Broek",
                "de Bruijn",
                "de Bruin",
                "van der Heijden",
                "Schouten",
                "van Beek",
                "Willems",
                "van Vliet",
                "van de Ven",
                "Hoekstra",
                "Maas",
                "Verhoeven",
            ],
            given: &[],
            composed: Composed::Joined(
                &[
                    "Hoek", "Bos", "Dijk", "Zwaan", "Wester", "Ooster", "Hof", "Veld", "Brink",
                    "Kamp", "Heer", "Bakel", "Hol", "Zand", "Leeu", "Sloot", "Groen", "Molen",
                ],
                &[
                    "stra", "ma", "huis", "man", "veld", "inga", "sma", "ker", "hof", "kamp",
                ],
            ),
        },
        Nordic => &Region {
            first: &[
                "Johan", "Eva", "Karl", "Maria", "Nils", "Kristina", "Per", "Birgitta", "Mikael",
                "Anna", "Magnus", "Sofia", "Henrik", "Emma", "Fredrik", "Sara", "Mattias",
                "Johanna", "Gustav", "Ida", "Axel", "Ebba", "Hugo", "Wilma", "William", "Alva",
                "Emil", "Klara", "Filip", "Frida", "Viktor", "Hanna", "Olof", "Astrid", "Jonas",
                "Malin", "Daniel", "Camilla", "Stefan", "Helena",
            ],
            last: &[
                "Pettersson",
                "Jonsson",
                "Jansson",
                "Hansson",
                "Bengtsson",
                "Jönsson",
                "Lindberg",
                "Jakobsson",
                "Magnusson",
                "Lindström",
                "Olofsson",
                "Lindqvist",
                "Lindgren",
                "Berg",
                "Axelsson",
                "Bergström",
                "Lundberg",
                "Lind",
                "Lundgren",
                "Lundqvist",
                "Mattsson",
                "Berglund",
                "Fredriksson",
                "Sandberg",
                "Henriksson",
                "Forsberg",
                "Sjöberg",
                "Wallin",
                "Engström",
                "Eklund",
            ],
            given: &[],
            composed: Composed::Joined(
                &[
                    "Lind", "Berg", "Ek", "Sjö", "Sand", "Dahl", "Nord", "Sund", "Hed", "Holm",
                    "Ström", "Fors", "Lund", "Ny", "Wall", "Ask", "Björk", "Gran", "Hag", "Alm",
                ],
                &[
                    "berg", "ström", "lund", "qvist", "gren", "holm", "dahl", "blad", "man",
                    "sten", "fors", "mark",
                ],
            ),
        },
        Polish => &Region {
            first: &[
                "Anna",
                "Krzysztof",
                "Maria",
                "Andrzej",
                "Barbara",
                "Marek",
                "Magdalena",
                "Jan",
                "Monika",
                "Marcin",
                "Aleksandra",
                "Adam",
                "Natalia",
                "Jakub",
                "Julia",
                "Kamil",
                "Karolina",
                "Mateusz",
                "Justyna",
                "Dariusz",
                "Beata",
                "Rafał",
                "Dorota",
                "Wojciech",
                "Iwona",
                "Szymon",
                "Alicja",
                "Bartosz",
                "Weronika",
                "Filip",
                "Marta",
                "Kacper",
                "Emilia",
                "Antoni",
                "Hanna",
                "Robert",
                "Renata",
                "Sebastian",
                "Paulina",
                "Mariusz",
            ],
            last: &[
                "Jankowski",
                "Mazur",
                "Kwiatkowski",
                "Krawczyk",
                "Kaczmarek",
                "Piotrowski",
                "Grabowski",
                "Zając",
                "Pawłowski",
                "Michalski",
                "Król",
                "Wieczorek",
                "Jabłoński",
                "Wróbel",
                "Nowakowski",
                "Majewski",
                "Olszewski",
                "Stępień",
                "Malinowski",
                "Jaworski",
                "Adamczyk",
                "Dudek",
                "Nowicki",
                "Pawlak",
                "Górski",
                "Witkowski",
                "Walczak",
                "Sikora",
                "Baran",
                "Rutkowski",
            ],
            given: &[],
            composed: Composed::Joined(
                &[
                    "Kowal", "Nowa", "Lew", "Kam", "Sob", "Wil", "Gaj", "Dąb", "Brzez", "Lip",
                    "Kras", "Mał", "Orzech", "Sos", "Wier", "Zaw", "Bor", "Jast", "Grab", "Pol",
                ],
                &[
                    "ski", "czyk", "ak", "ewski", "owski", "ik", "ek", "iński", "arz", "ecki",
                ],
            ),
        },
        Indian => &Region {
            first: &[
                "Amit",
                "Anjali",
                "Rajesh",
                "Sunita",
                "Suresh",
                "Neha",
                "Ravi",
                "Deepika",
                "Anil",
                "Swati",
                "Vijay",
                "Shreya",
                "Arun",
                "Nisha",
                "Manoj",
                "Pallavi",
                "Sandeep",
                "Aishwarya",
                "Nikhil",
                "Riya",
                "Aditya",
                "Isha",
                "Varun",
                "Tanvi",
                "Siddharth",
                "Lakshmi",
                "Harsh",
                "Shruti",
                "Gaurav",
                "Kiran",
                "Pranav",
                "Radha",
                "Vivek",
                "Nandini",
                "Abhishek",
                "Ritu",
                "Krishna",
                "Sarita",
                "Mohan",
                "Geeta",
            ],
            last: &[
                "Shah",
                "Kapoor",
                "Malhotra",
                "Bhat",
                "Menon",
                "Pillai",
                "Desai",
                "Agarwal",
                "Banerjee",
                "Mukherjee",
                "Ghosh",
                "Bose",
                "Sinha",
                "Mishra",
                "Pandey",
                "Tiwari",
                "Yadav",
                "Chauhan",
                "Saxena",
                "Kulkarni",
                "Deshpande",
                "Naidu",
                "Krishnan",
                "Subramanian",
                "Venkatesh",
                "Chopra",
                "Bhatia",
                "Sethi",
                "Trivedi",
                "Dubey",
                "Jain",
                "Arora",
                "Khanna",
                "Dutta",
                "Sen",
                "Hegde",
                "Shetty",
                "Kamath",
                "Chandra",
                "Prasad",
                "Ahmed",
                "Khan",
                "Qureshi",
                "Thakur",
                "Rathore",
                "Goyal",
                "Bansal",
                "Mittal",
            ],
            given: &[],
            composed: Composed::None,
        },
        Japanese => &Region {
            first: &[
                "Hiroshi", "Yoko", "Takeshi", "Keiko", "Akira", "Naoko", "Yuki", "Tomoko",
                "Kazuki", "Emi", "Shota", "Misaki", "Yuto", "Rin", "Riku", "Koharu", "Haruki",
                "Mio", "Kaito", "Saki", "Yamato", "Akari", "Ryo", "Nanami", "Sho", "Ayaka",
                "Daisuke", "Mai", "Tatsuya", "Yumi", "Kenta", "Aya", "Naoki", "Kana", "Masato",
                "Eri", "Satoshi", "Chika", "Tomoya", "Asuka",
            ],
            last: &[
                "Sasaki",
                "Yamaguchi",
                "Matsumoto",
                "Inoue",
                "Kimura",
                "Hayashi",
                "Shimizu",
                "Yamazaki",
                "Mori",
                "Abe",
                "Ikeda",
                "Hashimoto",
                "Yamashita",
                "Ishikawa",
                "Nakajima",
                "Maeda",
                "Fujita",
                "Ogawa",
                "Goto",
                "Okada",
                "Hasegawa",
                "Murakami",
                "Kondo",
                "Ishii",
                "Saito",
                "Sakamoto",
                "Endo",
                "Aoki",
                "Fujii",
                "Nishimura",
            ],
            given: &[],
            composed: Composed::Joined(
                &[
                    "Yama", "Naka", "Ta", "Mats", "Ishi", "Ko", "Fuji", "Hashi", "Kawa", "Mori",
                    "Taka", "Ono", "Nishi", "Higa", "Kita", "Oka", "Hira", "Sugi", "Miya", "Kuro",
                ],
                &[
                    "moto", "mura", "naka", "da", "shita", "kawa", "uchi", "saki", "hara", "no",
                    "zawa", "oka",
                ],
            ),
        },
        Chinese => &Region {
            first: &[
                "Xiao Ming",
                "Yan",
                "Hao",
                "Ying",
                "Ming",
                "Fang",
                "Jie",
                "Lei",
                "Tao",
                "Ling",
                "Qiang",
                "Yu Ting",
                "Jian",
                "Hui",
                "Bo",
                "Xiu Ying",
                "Chen",
                "Jing",
                "Feng",
                "Min",
                "Yong",
                "Li Ting",
                "Gang",
                "Wen",
                "Hong",
                "Ping",
                "Jia Yi",
                "Zi Xuan",
                "Yi Chen",
                "Hao Ran",
                "Wei Jie",
                "Shu Hui",
                "Kok Wah",
                "Siew Ling",
                "Boon Kiat",
                "Pei Shan",
                "Chee Keong",
                "Hwee Ling",
                "Yong Sheng",
                "Li Hua",
            ],
            last: &[
                "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
                "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Toh", "Yeo", "Low",
                "Sim", "Chong", "Foo", "Loh", "Quek", "Seah", "Tay", "Heng", "Kwok", "Leong",
                "Yap", "Chia", "Soh", "Pang", "Chew", "Lau", "Yeoh",
            ],
            given: &[
                "Wei", "Ming", "Hui", "Ling", "Jun", "Xin", "Yi", "Jia", "Hao", "Zhi", "Li", "Mei",
                "Xiao", "Yu", "Chen", "Kai", "Wen", "Hong", "Jie", "Ying", "Shu", "Yan", "Tian",
                "Rui", "Qing", "Boon", "Siew", "Kok", "Pei", "Zi",
            ],
            composed: Composed::None,
        },
    }
}

/// Cumulative rank weights of lists up to this long.
const LONGEST: usize = 128;

/// `cumulative()[n]` = sum of the weights of ranks 1..=n.
fn cumulative() -> &'static [f64; LONGEST + 1] {
    static TABLE: OnceLock<[f64; LONGEST + 1]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0.0; LONGEST + 1];
        for n in 1..=LONGEST {
            t[n] = t[n - 1] + 1.0 / (n as f64 + 10.0);
        }
        t
    })
}

/// An item of `common` followed by `more`, by frequency rank.
fn by_rank<R: Rng>(
    rng: &mut R,
    common: &'static [&'static str],
    more: &'static [&'static str],
) -> &'static str {
    let n = (common.len() + more.len()).min(LONGEST);
    let table = cumulative();
    let x = rng.r#gen::<f64>() * table[n];
    let rank = table[1..=n].partition_point(|&c| c <= x).min(n - 1);
    if rank < common.len() {
        common[rank]
    } else {
        more[rank - common.len()]
    }
}

/// A first name of `r`.
fn first_of<R: Rng>(rng: &mut R, r: NameRegion) -> String {
    let given = region(r).given;
    if !given.is_empty() && rng.gen_bool(0.6) {
        let (a, b) = (*vocab::pick(rng, given), *vocab::pick(rng, given));
        if a == b {
            a.to_string()
        } else {
            format!("{a} {b}")
        }
    } else {
        by_rank(rng, vocab::first_names(r), region(r).first).to_string()
    }
}

/// A last name of `r`: from its list, or composed as its people's often are.
fn last_of<R: Rng>(rng: &mut R, r: NameRegion) -> String {
    let listed = |rng: &mut R| by_rank(rng, vocab::last_names(r), region(r).last);
    match (&region(r).composed, rng.gen_bool(0.55)) {
        (Composed::Joined(roots, endings), true) => {
            let (root, ending) = (*vocab::pick(rng, roots), *vocab::pick(rng, endings));
            // `Berg` + `berg` is no name; such pairs become the root alone.
            if root.to_lowercase() == ending {
                root.to_string()
            } else {
                format!("{root}{ending}")
            }
        }
        (Composed::TwoFamilyNames, true) => {
            let (father, mother) = (listed(rng), listed(rng));
            if father == mother {
                father.to_string()
            } else {
                format!("{father} {mother}")
            }
        }
        _ => listed(rng).to_string(),
    }
}

/// The first and last name of lead `id` (of the workspace seeded by `seed`), a person
/// of `home`: mostly a name of that region, sometimes of another.
pub fn lead_name(seed: u64, id: i64, home: NameRegion) -> (String, String) {
    let mut rng: ChaCha8Rng = entity_rng(seed, Stream::Name, id as u64);
    let origin = |rng: &mut ChaCha8Rng| {
        if rng.gen_bool(0.15) {
            REGIONS[rng.gen_range(0..REGIONS.len())]
        } else {
            home
        }
    };
    let first_region = origin(&mut rng);
    let last_region = origin(&mut rng);
    let first = first_of(&mut rng, first_region);
    (first, last_of(&mut rng, last_region))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Probability that two leads of `home` share a full name, estimated from draws.
    fn collision_rate(home: NameRegion, draws: i64) -> f64 {
        let mut counts: HashMap<(String, String), f64> = HashMap::new();
        for id in 0..draws {
            *counts.entry(lead_name(7, id, home)).or_default() += 1.0;
        }
        let n = draws as f64;
        counts.values().map(|c| c * (c - 1.0)).sum::<f64>() / (n * (n - 1.0))
    }

    #[test]
    fn full_names_collide_rarely_but_common_names_do() {
        for home in REGIONS {
            let rate = collision_rate(home, 200_000);
            assert!(
                rate < 4e-4,
                "{home:?}: two leads share a full name with probability {rate:.2e}"
            );
            assert!(rate > 1e-6, "{home:?}: no name is common ({rate:.2e})");
        }
    }

    #[test]
    fn common_names_come_first_and_every_list_fits_the_weights() {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for id in 0..50_000 {
            *counts
                .entry(lead_name(3, id, NameRegion::English).0)
                .or_default() += 1;
        }
        assert!(counts["James"] > counts["Declan"] * 3, "{counts:?}");
        for r in REGIONS {
            assert!(vocab::first_names(r).len() + region(r).first.len() <= LONGEST);
            assert!(vocab::last_names(r).len() + region(r).last.len() <= LONGEST);
        }
    }

    #[test]
    fn names_are_pinned_for_a_seed_and_lead() {
        // A change of the lists, weights or draws changes these (and every generated
        // workspace): it must be on purpose.
        let got: Vec<String> = (1..=4)
            .map(|id| {
                let (f, l) = lead_name(42, id, NameRegion::German);
                format!("{f} {l}")
            })
            .collect();
        assert_eq!(got, PINNED, "{got:?}");
        let distinct: std::collections::HashSet<_> = (0..100)
            .map(|id| lead_name(42, id, NameRegion::German))
            .collect();
        assert!(distinct.len() > 90);
    }

    const PINNED: [&str; 4] = [
        "Bo Santetti",
        "Julia Rolac",
        "Monika Neumann",
        "Sophie Northmore",
    ];
}
