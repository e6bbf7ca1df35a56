# ruff: noqa: SIM905 - word lists read better as one string each
"""The words and places synthetic customers are made of; ``patronage.seed`` draws from them.

Changing anything here (even the order of a list) changes what a given seed produces.
"""

from typing import Any, NamedTuple

# --- names ------------------------------------------------------------------------------------------
# (male first names, female first names, last names) per language. A multi-word surname is written
# with "_" for its spaces, so that a list stays one string split on spaces.

EN = (
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew "
    "Anthony Mark Steven Paul Andrew Joshua Kevin Brian George Edward Oliver Harry Jack Jacob Noah Charlie "
    "Liam Ethan Alfie Freddie Oscar Arthur Samuel Benjamin Henry Luke Ryan Connor Sean Patrick Aidan Callum "
    "Jordan Tyler Nathan Adam Joe Jonathan Jonah Dylan Lewis Owen Ben Tom Alex Max".split(),
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Emily Emma Olivia Sophie "
    "Amelia Isla Ava Mia Grace Lily Chloe Ella Charlotte Hannah Lucy Megan Rebecca Laura Rachel Zoe Holly "
    "Katie Jade Aoife Siobhan Niamh Ciara Abigail Madison Ashley Amanda Joanna Jodie Josephine Joy Jolene "
    "Harriet Florence Freya Evie Poppy Daisy Alice Ruby Phoebe Isabelle Victoria".split(),
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
    "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill "
    "Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker "
    "Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
    "Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman "
    "Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight "
    "Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey O'Brien O'Connor Byrne Ryan "
    "Walsh McCarthy Doyle Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Nguyen Kim Wong Chen Okafor "
    "Mensah Jordan Joyce".split(),
)
FR = (
    "Jean Pierre Michel André Philippe Alain Nicolas Christophe Laurent Julien Thomas Antoine Hugo Lucas "
    "Louis Gabriel Arthur Jules Léo Raphaël Mathis Nathan Théo Maxime Baptiste Quentin Romain Guillaume "
    "Sébastien Frédéric François Jérôme Olivier Éric Joël Yann Benoît Mathieu Clément Adrien Jonathan "
    "Jordan Loïc Cédric Damien Vincent Florian Kévin".split(),
    "Marie Nathalie Isabelle Sylvie Catherine Françoise Valérie Sandrine Camille Léa Manon Chloé Emma Inès "
    "Jade Louise Alice Lina Juliette Zoé Sarah Pauline Julie Céline Aurélie Élodie Mathilde Claire Anaïs "
    "Margaux Océane Justine Mélanie Hélène Agnès Joséphine Jocelyne Laetitia Émilie Lucie Josiane Brigitte "
    "Christine Martine Noémie Maëlle".split(),
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel "
    "Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert Bonnet "
    "François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin "
    "Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen "
    "Boyer Denis Lemaire Duval Joly Gautier Roger Roche Roy Noël Meyer Lucas Meunier Jean Perez Marchand "
    "Dufour Blanchard Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez Jourdan Benoît Caron "
    "Bouvier Mallet Jouve Josse Besson Dupuis Hamon Renaud Le_Gall Da_Silva".split(),
)
DE = (
    "Lukas Leon Finn Jonas Paul Felix Maximilian Elias Ben Noah Thomas Michael Andreas Stefan Klaus Jürgen "
    "Wolfgang Uwe Frank Markus Tobias Sebastian Florian Jan Niklas Johannes Moritz Tim Philipp Dieter "
    "Jochen Jörg Joachim Jens Matthias".split(),
    "Anna Lena Mia Hannah Emilia Lea Sophie Marie Laura Julia Katharina Sabine Petra Monika Ursula Claudia "
    "Andrea Stefanie Jana Johanna Greta Franziska Ute Birgit Jutta Jasmin Nele Frieda Carla Ida".split(),
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter "
    "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner "
    "Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser "
    "Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Vogel Yilmaz Kaya Jost".split(),
)
ES = (
    "José Antonio Manuel Francisco David Juan Javier Daniel Carlos Jesús Alejandro Miguel Rafael Pablo "
    "Sergio Jorge Álvaro Diego Adrián Hugo Mateo Joaquín Jordi Iker Raúl Josep Luis Fernando".split(),
    "María Carmen Ana Isabel Laura Cristina Marta Lucía Paula Elena Sara Sofía Julia Alba Irene Nuria Rocío "
    "Pilar Montserrat Josefa Noelia Claudia Andrea Beatriz Inmaculada Jimena Mercedes Rosa".split(),
    "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández "
    "Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil Ramírez "
    "Serrano Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez Iglesias "
    "Medina Garrido Cortés Castillo Santos Lozano Guerrero Cano Prieto Jover".split(),
)
IT = (
    "Marco Alessandro Giuseppe Francesco Luca Andrea Matteo Lorenzo Giovanni Antonio Roberto Stefano Paolo "
    "Davide Simone Federico Riccardo Gabriele Tommaso Leonardo Emanuele Nicola Fabio".split(),
    "Giulia Francesca Chiara Sara Martina Valentina Alessia Elena Federica Giorgia Sofia Aurora Alice "
    "Ginevra Beatrice Paola Silvia Laura Anna Maria Elisa Ilaria Noemi".split(),
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca "
    "Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara "
    "Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De_Santis D'Angelo "
    "Marchetti".split(),
)
NL = (
    "Daan Sem Lucas Levi Finn Milan Jesse Bram Thijs Lars Johan Joost Pieter Jeroen Sander Bas Ruben Stijn "
    "Wouter Tim Joris Jelle Koen".split(),
    "Emma Julia Sophie Tess Zoë Sara Anna Fleur Lotte Eva Sanne Lisa Anouk Femke Iris Maud Noor Lieke Ilse "
    "Marloes Joke Jolien".split(),
    "de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer de_Boer Mulder "
    "de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer de_Wit Dijkstra Smits de_Graaf "
    "van_der_Meer Kok Jacobs Vermeulen Peeters Maes Willems Claes Goossens Wouters De_Smet".split(),
)


# --- places -----------------------------------------------------------------------------------------


class City(NamedTuple):
    name: str
    state: str | None
    latitude: float
    longitude: float
    postal_codes: tuple[str, ...]  # patterns: "#" a digit, "@" a capital letter
    landlines: tuple[str, ...]  # landline prefixes
    landline_digits: int  # how many digits follow a landline prefix


class Streets(NamedTuple):
    templates: tuple[str, ...]  # "{n}": a house number, "{name}": one of the names
    names: tuple[str, ...]


class Country(NamedTuple):
    code: str
    weight: int  # its share of the customers
    names: tuple[list[str], list[str], list[str]]
    cities: tuple[City, ...]  # the first (the biggest) gets three times the customers of each other one
    mobiles: tuple[str, ...]  # mobile prefixes; none: phones are landlines
    mobile_digits: int  # how many digits follow a mobile prefix; 0: as many as after a landline's
    streets: Streets
    domains: tuple[str, ...]  # the country's own email providers
    company_suffixes: tuple[str, ...]


EN_STREETS = Streets(
    ("{n} {name}",),
    tuple(
        "High Street|Church Road|Station Road|Main Street|Park Avenue|Victoria Road|Green Lane|Manor Road|"
        "Church Lane|Park Road|Queens Road|New Road|Mill Lane|Kings Road|London Road|The Crescent|"
        "Albert Road|York Road|Springfield Road|Oak Avenue|Elm Street|Maple Avenue|Broadway|Market Street|"
        "Cedar Close|Chestnut Grove".split("|")
    ),
)
COUNTRIES = (
    Country(
        "GB",
        30,
        EN,
        (
            City(
                "London",
                None,
                51.5072,
                -0.1276,
                ("SW# #@@", "E# #@@", "N# #@@", "W# #@@", "SE## #@@"),
                ("+44207", "+44208", "+44203"),
                7,
            ),
            City("Manchester", None, 53.4808, -2.2426, ("M# #@@", "M## #@@"), ("+44161",), 7),
            City("Birmingham", None, 52.4862, -1.8904, ("B# #@@", "B## #@@"), ("+44121",), 7),
            City("Edinburgh", None, 55.9533, -3.1883, ("EH# #@@", "EH## #@@"), ("+44131",), 7),
            City("Bristol", None, 51.4545, -2.5879, ("BS# #@@",), ("+44117",), 7),
            City("Leeds", None, 53.8008, -1.5491, ("LS# #@@",), ("+44113",), 7),
        ),
        ("+4474", "+4475", "+4477", "+4478", "+4479"),
        8,
        EN_STREETS,
        ("btinternet.com", "sky.com", "yahoo.co.uk", "virginmedia.com"),
        ("Ltd", "& Sons", "Catering Ltd", "Events"),
    ),
    Country(
        "FR",
        30,
        FR,
        (
            City("Paris", None, 48.8566, 2.3522, ("7500#", "7501#"), ("+331",), 8),
            City("Lyon", None, 45.764, 4.8357, ("6900#",), ("+3347",), 7),
            City("Marseille", None, 43.2965, 5.3698, ("130##",), ("+3349",), 7),
            City("Toulouse", None, 43.6047, 1.4442, ("310##",), ("+3356",), 7),
            City("Bordeaux", None, 44.8378, -0.5792, ("330##",), ("+3355",), 7),
            City("Lille", None, 50.6292, 3.0573, ("590##",), ("+3332",), 7),
            City("Nantes", None, 47.2184, -1.5536, ("440##",), ("+3324",), 7),
        ),
        ("+336", "+337"),
        8,
        Streets(
            ("{n} rue {name}", "{n} avenue {name}", "{n} boulevard {name}", "{n} place {name}"),
            tuple(
                "de la Paix|Victor Hugo|de la République|Jean Jaurès|du Général de Gaulle|Pasteur|"
                "de la Gare|Nationale|des Écoles|du Moulin|Gambetta|de Verdun|Voltaire|Émile Zola|"
                "des Lilas|Saint-Michel|de Paris|du Château|des Acacias|Foch".split("|")
            ),
        ),
        ("orange.fr", "free.fr", "laposte.net", "sfr.fr", "wanadoo.fr"),
        ("SARL", "SAS", "& Fils", "Traiteur"),
    ),
    Country(
        "US",
        12,
        EN,
        (
            City("New York", "NY", 40.7128, -74.006, ("100##", "101##", "112##"), ("+1212", "+1646", "+1718"), 7),
            City("San Francisco", "CA", 37.7749, -122.4194, ("941##",), ("+1415", "+1628"), 7),
            City("Chicago", "IL", 41.8781, -87.6298, ("606##",), ("+1312", "+1773"), 7),
            City("Boston", "MA", 42.3601, -71.0589, ("021##",), ("+1617", "+1857"), 7),
            City("Seattle", "WA", 47.6062, -122.3321, ("981##",), ("+1206",), 7),
            City("Miami", "FL", 25.7617, -80.1918, ("331##",), ("+1305", "+1786"), 7),
            City("Austin", "TX", 30.2672, -97.7431, ("787##",), ("+1512", "+1737"), 7),
        ),
        (),
        0,
        EN_STREETS,
        ("aol.com", "comcast.net", "att.net"),
        ("Inc.", "LLC", "Catering", "& Co"),
    ),
    Country(
        "DE",
        8,
        DE,
        (
            City("Berlin", None, 52.52, 13.405, ("10###", "12###"), ("+4930",), 8),
            City("München", None, 48.1351, 11.582, ("80###", "81###"), ("+4989",), 8),
            City("Hamburg", None, 53.5511, 9.9937, ("20###", "22###"), ("+4940",), 8),
            City("Köln", None, 50.9375, 6.9603, ("50###", "51###"), ("+49221",), 7),
        ),
        ("+49151", "+49152", "+49157", "+49160", "+49170", "+49171", "+49176"),
        8,
        Streets(
            ("{name}straße {n}", "{name}weg {n}", "{name}platz {n}"),
            tuple("Haupt Bahnhof Schul Garten Berg Linden Kirch Wald Ring Mühlen Goethe Schiller".split()),
        ),
        ("web.de", "gmx.de", "t-online.de"),
        ("GmbH", "KG", "& Söhne"),
    ),
    Country(
        "ES",
        6,
        ES,
        (
            City("Madrid", None, 40.4168, -3.7038, ("280##",), ("+3491",), 7),
            City("Barcelona", None, 41.3874, 2.1686, ("080##",), ("+3493",), 7),
            City("Valencia", None, 39.4699, -0.3763, ("460##",), ("+3496",), 7),
            City("Sevilla", None, 37.3891, -5.9845, ("410##",), ("+3495",), 7),
        ),
        ("+346", "+347"),
        8,
        Streets(
            ("Calle {name}, {n}", "Avenida {name}, {n}", "Plaza {name}, {n}"),
            tuple("Mayor|del Sol|de Alcalá|Gran Vía|de la Paz|Real|Nueva|San Juan|del Carmen".split("|")),
        ),
        ("telefonica.net", "yahoo.es"),
        ("S.L.", "S.A.", "e Hijos"),
    ),
    Country(
        "IT",
        5,
        IT,
        (
            City("Roma", None, 41.9028, 12.4964, ("001##",), ("+3906",), 8),
            City("Milano", None, 45.4642, 9.19, ("201##",), ("+3902",), 8),
            City("Napoli", None, 40.8518, 14.2681, ("801##",), ("+39081",), 7),
            City("Torino", None, 45.0703, 7.6869, ("101##",), ("+39011",), 7),
        ),
        ("+39320", "+39333", "+39347", "+39348", "+39366", "+39380", "+39393"),
        7,
        Streets(
            ("Via {name}, {n}", "Corso {name}, {n}", "Piazza {name}, {n}"),
            tuple("Roma|Garibaldi|Mazzini|Cavour|Dante|Verdi|Vittorio Emanuele|Marconi|XX Settembre".split("|")),
        ),
        ("libero.it", "tiscali.it", "virgilio.it"),
        ("S.r.l.", "S.p.A.", "& Figli"),
    ),
    Country(
        "BE",
        4,
        (FR[0] + NL[0], FR[1] + NL[1], FR[2][:40] + NL[2]),
        (
            City("Bruxelles", None, 50.8503, 4.3517, ("10##", "11##"), ("+322",), 7),
            City("Antwerpen", None, 51.2194, 4.4025, ("20##",), ("+323",), 7),
            City("Liège", None, 50.6326, 5.5797, ("40##",), ("+324",), 7),
        ),
        ("+3247", "+3248", "+3249"),
        7,
        Streets(
            ("{name} {n}", "Rue {name} {n}"),
            tuple("Kerkstraat|Stationsstraat|Dorpsstraat|de la Loi|Royale|Neuve|Meir".split("|")),
        ),
        ("skynet.be", "telenet.be"),
        ("SPRL", "BV", "NV"),
    ),
    Country(
        "NL",
        3,
        NL,
        (
            City("Amsterdam", None, 52.3676, 4.9041, ("10## @@",), ("+3120",), 7),
            City("Rotterdam", None, 51.9244, 4.4777, ("30## @@",), ("+3110",), 7),
            City("Utrecht", None, 52.0907, 5.1214, ("35## @@",), ("+3130",), 7),
        ),
        ("+316",),
        8,
        Streets(
            ("{name} {n}",),
            tuple("Kerkstraat|Dorpsstraat|Prinsengracht|Keizersgracht|Molenweg|Schoolstraat".split("|")),
        ),
        ("ziggo.nl", "kpnmail.nl"),
        ("B.V.", "& Zn"),
    ),
    Country(
        "IE",
        2,
        EN,
        (
            City("Dublin", None, 53.3498, -6.2603, ("D0# @###", "D1# @###"), ("+3531",), 7),
            City("Cork", None, 51.8985, -8.4756, ("T12 @###", "T23 @###"), ("+35321",), 7),
            City("Galway", None, 53.2707, -9.0568, ("H91 @###",), ("+35391",), 7),
        ),
        ("+35383", "+35385", "+35386", "+35387", "+35389"),
        7,
        EN_STREETS,
        ("eircom.net",),
        ("Ltd", "& Sons"),
    ),
)

# --- everything else --------------------------------------------------------------------------------

# Email domains of every country, with their weights.
COMMON_DOMAINS = (
    ("gmail.com", 30),
    ("example.com", 12),
    ("outlook.com", 8),
    ("hotmail.com", 8),
    ("yahoo.com", 6),
    ("icloud.com", 6),
    ("protonmail.com", 2),
    ("example.org", 2),
    ("mail.com", 1),
)
# Delivery notes.
NOTES = (
    "Ring the bell twice",
    "Leave at the door",
    "Call on arrival",
    "Second floor, no lift",
    "Gate code 4821",
    "Allergic to peanuts",
    "Please bring change",
    "Back entrance, next to the bakery",
    "Do not knock, baby sleeping",
    "Dog in the garden, friendly",
)
# Second address lines: "{n}" a number, "{l}" a letter.
ADDRESS_2 = ("Flat {n}", "Apt {n}", "Suite {n}", "Building B", "2nd floor", "Unit {n}", "Bâtiment {l}")
CUSTOM_FIELDS: tuple[dict[str, Any], ...] = (
    {"source": "website"},
    {"source": "pos"},
    {"vip": True},
    {"favourite_dish": "Margherita"},
    {"allergies": ["gluten"]},
    {"loyalty_tier": "gold", "since": 2019},
    {"newsletter_segment": "weekend"},
)
# What people put after a "+" in their email address.
TAGS = ("orders", "food", "shop", "deals")
