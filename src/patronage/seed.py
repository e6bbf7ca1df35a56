# ruff: noqa: SIM905 - word lists read better as one string each
"""Bulk loading of realistic synthetic customers (``patronage admin seed-customers``).

For benchmarks and for trying the search on a big list: names, emails, phones and addresses of nine
countries, creation times spread over the past years. On PostgreSQL the rows go in with ``COPY`` (asyncpg's
``copy_records_to_table`` on the driver connection) in one transaction; a big load rebuilds the customer
table's indexes once instead of maintaining them row by row (see ``BULK_THRESHOLD``); the table is then
vacuumed and analysed so that the next search plans on fresh statistics. On SQLite the rows go in with
batched ``executemany`` inserts, then ``ANALYZE``.
"""

import bisect
import itertools
import json
import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, insert, select, text

from patronage.customer_lists.models import CustomerList
from patronage.customers.models import Customer
from patronage.db import Database, utcnow
from patronage.ids import new_ids
from patronage.settings import Settings


class SeedError(ValueError):
    pass


# Rows sent per COPY / executemany batch: big enough to amortise round trips, small enough to keep
# memory flat whatever the count.
BATCH_SIZE = 20_000
# Creation times are spread over this many days before now.
SPAN_DAYS = 6 * 365

COLUMNS: tuple[str, ...] = tuple(column.name for column in Customer.__table__.columns)

# --- names ------------------------------------------------------------------------------------------
# (male first names, female first names, last names) per language.

_EN = (
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
_FR = (
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
_DE = (
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
_ES = (
    "José Antonio Manuel Francisco David Juan Javier Daniel Carlos Jesús Alejandro Miguel Rafael Pablo "
    "Sergio Jorge Álvaro Diego Adrián Hugo Mateo Joaquín Jordi Iker Raúl Josep Luis Fernando".split(),
    "María Carmen Ana Isabel Laura Cristina Marta Lucía Paula Elena Sara Sofía Julia Alba Irene Nuria Rocío "
    "Pilar Montserrat Josefa Noelia Claudia Andrea Beatriz Inmaculada Jimena Mercedes Rosa".split(),
    "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández "
    "Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil Ramírez "
    "Serrano Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez Iglesias "
    "Medina Garrido Cortés Castillo Santos Lozano Guerrero Cano Prieto Jover".split(),
)
_IT = (
    "Marco Alessandro Giuseppe Francesco Luca Andrea Matteo Lorenzo Giovanni Antonio Roberto Stefano Paolo "
    "Davide Simone Federico Riccardo Gabriele Tommaso Leonardo Emanuele Nicola Fabio".split(),
    "Giulia Francesca Chiara Sara Martina Valentina Alessia Elena Federica Giorgia Sofia Aurora Alice "
    "Ginevra Beatrice Paola Silvia Laura Anna Maria Elisa Ilaria Noemi".split(),
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca "
    "Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara "
    "Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De_Santis D'Angelo "
    "Marchetti".split(),
)
_NL = (
    "Daan Sem Lucas Levi Finn Milan Jesse Bram Thijs Lars Johan Joost Pieter Jeroen Sander Bas Ruben Stijn "
    "Wouter Tim Joris Jelle Koen".split(),
    "Emma Julia Sophie Tess Zoë Sara Anna Fleur Lotte Eva Sanne Lisa Anouk Femke Iris Maud Noor Lieke Ilse "
    "Marloes Joke Jolien".split(),
    "de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer de_Boer Mulder "
    "de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer de_Wit Dijkstra Smits de_Graaf "
    "van_der_Meer Kok Jacobs Vermeulen Peeters Maes Willems Claes Goossens Wouters De_Smet".split(),
)


def _names(group: tuple[list[str], list[str], list[str]]) -> tuple[list[str], list[str], list[str]]:
    # Multi-word surnames are written with "_" above; their spaces come back here.
    return tuple([name.replace("_", " ") for name in names] for names in group)  # type: ignore[return-value]


# --- places -----------------------------------------------------------------------------------------
# A city: name, state, latitude, longitude, postal code patterns ("#" a digit, "@" a capital letter),
# landline prefixes and how many digits follow them.

_City = tuple[str, str | None, float, float, tuple[str, ...], tuple[str, ...], int]


class _Country:
    def __init__(
        self,
        code: str,
        weight: int,
        names: tuple[list[str], list[str], list[str]],
        cities: Sequence[_City],
        mobiles: tuple[str, ...],
        mobile_digits: int,
        street: Callable[[random.Random], str],
        domains: tuple[str, ...],
        company_suffixes: tuple[str, ...],
    ):
        self.code = code
        self.weight = weight
        self.names = _names(names)
        self.cities = cities
        self.mobiles = mobiles
        self.mobile_digits = mobile_digits
        self.street = street
        self.domains = domains
        self.company_suffixes = company_suffixes


def _street(templates: tuple[str, ...], names: tuple[str, ...]) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        return rng.choice(templates).format(n=rng.randint(1, 180), name=rng.choice(names))

    return make


_EN_STREETS = _street(
    ("{n} {name}",),
    tuple(
        "High Street|Church Road|Station Road|Main Street|Park Avenue|Victoria Road|Green Lane|Manor Road|"
        "Church Lane|Park Road|Queens Road|New Road|Mill Lane|Kings Road|London Road|The Crescent|"
        "Albert Road|York Road|Springfield Road|Oak Avenue|Elm Street|Maple Avenue|Broadway|Market Street|"
        "Cedar Close|Chestnut Grove".split("|")
    ),
)
_COUNTRIES = (
    _Country(
        "GB",
        30,
        _EN,
        (
            (
                "London",
                None,
                51.5072,
                -0.1276,
                ("SW# #@@", "E# #@@", "N# #@@", "W# #@@", "SE## #@@"),
                ("+44207", "+44208", "+44203"),
                7,
            ),
            ("Manchester", None, 53.4808, -2.2426, ("M# #@@", "M## #@@"), ("+44161",), 7),
            ("Birmingham", None, 52.4862, -1.8904, ("B# #@@", "B## #@@"), ("+44121",), 7),
            ("Edinburgh", None, 55.9533, -3.1883, ("EH# #@@", "EH## #@@"), ("+44131",), 7),
            ("Bristol", None, 51.4545, -2.5879, ("BS# #@@",), ("+44117",), 7),
            ("Leeds", None, 53.8008, -1.5491, ("LS# #@@",), ("+44113",), 7),
        ),
        ("+4474", "+4475", "+4477", "+4478", "+4479"),
        8,
        _EN_STREETS,
        ("btinternet.com", "sky.com", "yahoo.co.uk", "virginmedia.com"),
        ("Ltd", "& Sons", "Catering Ltd", "Events"),
    ),
    _Country(
        "FR",
        30,
        _FR,
        (
            ("Paris", None, 48.8566, 2.3522, ("7500#", "7501#"), ("+331",), 8),
            ("Lyon", None, 45.764, 4.8357, ("6900#",), ("+3347",), 7),
            ("Marseille", None, 43.2965, 5.3698, ("130##",), ("+3349",), 7),
            ("Toulouse", None, 43.6047, 1.4442, ("310##",), ("+3356",), 7),
            ("Bordeaux", None, 44.8378, -0.5792, ("330##",), ("+3355",), 7),
            ("Lille", None, 50.6292, 3.0573, ("590##",), ("+3332",), 7),
            ("Nantes", None, 47.2184, -1.5536, ("440##",), ("+3324",), 7),
        ),
        ("+336", "+337"),
        8,
        _street(
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
    _Country(
        "US",
        12,
        _EN,
        (
            ("New York", "NY", 40.7128, -74.006, ("100##", "101##", "112##"), ("+1212", "+1646", "+1718"), 7),
            ("San Francisco", "CA", 37.7749, -122.4194, ("941##",), ("+1415", "+1628"), 7),
            ("Chicago", "IL", 41.8781, -87.6298, ("606##",), ("+1312", "+1773"), 7),
            ("Boston", "MA", 42.3601, -71.0589, ("021##",), ("+1617", "+1857"), 7),
            ("Seattle", "WA", 47.6062, -122.3321, ("981##",), ("+1206",), 7),
            ("Miami", "FL", 25.7617, -80.1918, ("331##",), ("+1305", "+1786"), 7),
            ("Austin", "TX", 30.2672, -97.7431, ("787##",), ("+1512", "+1737"), 7),
        ),
        (),
        0,
        _EN_STREETS,
        ("aol.com", "comcast.net", "att.net"),
        ("Inc.", "LLC", "Catering", "& Co"),
    ),
    _Country(
        "DE",
        8,
        _DE,
        (
            ("Berlin", None, 52.52, 13.405, ("10###", "12###"), ("+4930",), 8),
            ("München", None, 48.1351, 11.582, ("80###", "81###"), ("+4989",), 8),
            ("Hamburg", None, 53.5511, 9.9937, ("20###", "22###"), ("+4940",), 8),
            ("Köln", None, 50.9375, 6.9603, ("50###", "51###"), ("+49221",), 7),
        ),
        ("+49151", "+49152", "+49157", "+49160", "+49170", "+49171", "+49176"),
        8,
        _street(
            ("{name}straße {n}", "{name}weg {n}", "{name}platz {n}"),
            tuple("Haupt Bahnhof Schul Garten Berg Linden Kirch Wald Ring Mühlen Goethe Schiller".split()),
        ),
        ("web.de", "gmx.de", "t-online.de"),
        ("GmbH", "KG", "& Söhne"),
    ),
    _Country(
        "ES",
        6,
        _ES,
        (
            ("Madrid", None, 40.4168, -3.7038, ("280##",), ("+3491",), 7),
            ("Barcelona", None, 41.3874, 2.1686, ("080##",), ("+3493",), 7),
            ("Valencia", None, 39.4699, -0.3763, ("460##",), ("+3496",), 7),
            ("Sevilla", None, 37.3891, -5.9845, ("410##",), ("+3495",), 7),
        ),
        ("+346", "+347"),
        8,
        _street(
            ("Calle {name}, {n}", "Avenida {name}, {n}", "Plaza {name}, {n}"),
            tuple("Mayor|del Sol|de Alcalá|Gran Vía|de la Paz|Real|Nueva|San Juan|del Carmen".split("|")),
        ),
        ("telefonica.net", "yahoo.es"),
        ("S.L.", "S.A.", "e Hijos"),
    ),
    _Country(
        "IT",
        5,
        _IT,
        (
            ("Roma", None, 41.9028, 12.4964, ("001##",), ("+3906",), 8),
            ("Milano", None, 45.4642, 9.19, ("201##",), ("+3902",), 8),
            ("Napoli", None, 40.8518, 14.2681, ("801##",), ("+39081",), 7),
            ("Torino", None, 45.0703, 7.6869, ("101##",), ("+39011",), 7),
        ),
        ("+39320", "+39333", "+39347", "+39348", "+39366", "+39380", "+39393"),
        7,
        _street(
            ("Via {name}, {n}", "Corso {name}, {n}", "Piazza {name}, {n}"),
            tuple("Roma|Garibaldi|Mazzini|Cavour|Dante|Verdi|Vittorio Emanuele|Marconi|XX Settembre".split("|")),
        ),
        ("libero.it", "tiscali.it", "virgilio.it"),
        ("S.r.l.", "S.p.A.", "& Figli"),
    ),
    _Country(
        "BE",
        4,
        (_FR[0] + _NL[0], _FR[1] + _NL[1], _FR[2][:40] + _NL[2]),
        (
            ("Bruxelles", None, 50.8503, 4.3517, ("10##", "11##"), ("+322",), 7),
            ("Antwerpen", None, 51.2194, 4.4025, ("20##",), ("+323",), 7),
            ("Liège", None, 50.6326, 5.5797, ("40##",), ("+324",), 7),
        ),
        ("+3247", "+3248", "+3249"),
        7,
        _street(
            ("{name} {n}", "Rue {name} {n}"),
            tuple("Kerkstraat|Stationsstraat|Dorpsstraat|de la Loi|Royale|Neuve|Meir".split("|")),
        ),
        ("skynet.be", "telenet.be"),
        ("SPRL", "BV", "NV"),
    ),
    _Country(
        "NL",
        3,
        _NL,
        (
            ("Amsterdam", None, 52.3676, 4.9041, ("10## @@",), ("+3120",), 7),
            ("Rotterdam", None, 51.9244, 4.4777, ("30## @@",), ("+3110",), 7),
            ("Utrecht", None, 52.0907, 5.1214, ("35## @@",), ("+3130",), 7),
        ),
        ("+316",),
        8,
        _street(
            ("{name} {n}",),
            tuple("Kerkstraat|Dorpsstraat|Prinsengracht|Keizersgracht|Molenweg|Schoolstraat".split("|")),
        ),
        ("ziggo.nl", "kpnmail.nl"),
        ("B.V.", "& Zn"),
    ),
    _Country(
        "IE",
        2,
        _EN,
        (
            ("Dublin", None, 53.3498, -6.2603, ("D0# @###", "D1# @###"), ("+3531",), 7),
            ("Cork", None, 51.8985, -8.4756, ("T12 @###", "T23 @###"), ("+35321",), 7),
            ("Galway", None, 53.2707, -9.0568, ("H91 @###",), ("+35391",), 7),
        ),
        ("+35383", "+35385", "+35386", "+35387", "+35389"),
        7,
        _EN_STREETS,
        ("eircom.net",),
        ("Ltd", "& Sons"),
    ),
)

_COMMON_DOMAINS = (
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
_NOTES = (
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
_ADDRESS_2 = ("Flat {n}", "Apt {n}", "Suite {n}", "Building B", "2nd floor", "Unit {n}", "Bâtiment {l}")
_CUSTOM_FIELDS = (
    {"source": "website"},
    {"source": "pos"},
    {"vip": True},
    {"favourite_dish": "Margherita"},
    {"allergies": ["gluten"]},
    {"loyalty_tier": "gold", "since": 2019},
    {"newsletter_segment": "weekend"},
)
_TAGS = ("orders", "food", "shop", "deals")


@cache
def _ascii(name: str) -> str:
    """``"Zoë O'Brien-Da Silva"`` -> ``"zoeobrien-dasilva"``: what people put in their email addresses."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch == "-")


def _fill(rng: random.Random, pattern: str) -> str:
    """``"SW# #@@"`` -> ``"SW4 7QX"``: ``#`` a digit, ``@`` a capital letter."""
    return "".join(
        str(rng.randrange(10)) if ch == "#" else chr(65 + rng.randrange(26)) if ch == "@" else ch for ch in pattern
    )


def _micro_degrees(value: int) -> str:
    """``51507213`` -> ``"51.507213"``, the canonical text ``formats.render_decimal`` gives."""
    whole, fraction = divmod(abs(value), 1_000_000)
    digits = f"{fraction:06d}".rstrip("0") or "0"
    return f"{'-' if value < 0 else ''}{whole}.{digits}"


def _picker(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Callable[[], Any]:
    """A fast weighted choice."""
    items = [item for item, _ in weighted]
    cumulative = list(itertools.accumulate(weight for _, weight in weighted))
    total, draw = cumulative[-1], rng.random
    return lambda: items[bisect.bisect_right(cumulative, draw() * total)]


# The factory builds its tuples in this order; it must be the table's.
_ROW_ORDER = (
    "id account_id customer_list_id anonymised email email_search first_name last_name gender birth_date "
    "company_name phone phone_access_code address_1 address_2 postal_code city state country latitude "
    "longitude delivery_notes sms_marketing email_marketing custom_fields nb_orders order_total_minor "
    "first_order_at last_order_at created_at updated_at"
).split()
if tuple(_ROW_ORDER) != COLUMNS:  # pragma: no cover - a new customer column must be added to row()
    raise RuntimeError("seed.CustomerFactory.row must follow the customer table's columns")


class _Place:
    """A country's city with pools of addresses ready to draw from."""

    def __init__(self, rng: random.Random, country: _Country, city: _City):
        self.country = country
        self.city, self.state = city[0], city[1]
        self.latitude, self.longitude = round(city[2] * 1_000_000), round(city[3] * 1_000_000)
        self.postal_codes = [_fill(rng, rng.choice(city[4])) for _ in range(400)]
        self.streets = [country.street(rng) for _ in range(1500)]
        self.landlines = city[5]
        # Subscriber numbers never start with 0 or 1, as in real numbering plans.
        self.landline_low = 2 * 10 ** (city[6] - 1)
        self.landline_span = 10 ** city[6] - self.landline_low
        mobile_digits = country.mobile_digits or city[6]
        self.mobile_low = 2 * 10 ** (mobile_digits - 1)
        self.mobile_span = 10**mobile_digits - self.mobile_low


class CustomerFactory:
    """Makes customer rows (tuples in ``COLUMNS`` order, ``custom_fields`` as JSON text) for one list, oldest
    first; ``rng`` makes them reproducible (ids excepted: they always come from ``os.urandom``)."""

    def __init__(
        self,
        account_id: str,
        customer_list_id: str,
        count: int,
        *,
        rng: random.Random | None = None,
        now: datetime | None = None,
    ):
        self.rng = rng = rng or random.Random()
        self.account_id = account_id
        self.customer_list_id = customer_list_id
        self.now = now or utcnow()
        span = timedelta(days=SPAN_DAYS) // timedelta(microseconds=1)
        # Each customer gets its own slot of the span and a random instant inside it: distinct times,
        # spread evenly, in insertion order (as a real list grows).
        self.step = max(1, span // max(count, 1))
        self.start = self.now - timedelta(microseconds=self.step * count)
        self.index = 0
        self.seen_ids: set[str] = set()
        self.pick_country = _picker(rng, [(country, country.weight) for country in _COUNTRIES])
        self.pick_domain = _picker(rng, _COMMON_DOMAINS)
        # The first city of a country (its biggest) has three times the customers of each other one.
        self.pick_place = {
            country: _picker(
                rng, [(_Place(rng, country, city), 3 if i == 0 else 1) for i, city in enumerate(country.cities)]
            )
            for country in _COUNTRIES
        }
        self.first_birth = date(1940, 1, 1).toordinal()
        self.birth_days = (self.now.date() - timedelta(days=16 * 365)).toordinal() - self.first_birth
        self.custom_fields = [json.dumps(fields) for fields in _CUSTOM_FIELDS]
        draw = rng.random
        # Much cheaper than rng.choice / rng.randrange, and as good for synthetic data.
        self.pick: Callable[[Sequence[Any]], Any] = lambda seq: seq[int(draw() * len(seq))]
        self.below: Callable[[int], int] = lambda n: int(draw() * n)

    def _ids(self, count: int) -> list[str]:
        ids: list[str] = []
        while len(ids) < count:
            for new in new_ids(count - len(ids)):
                if new not in self.seen_ids:
                    self.seen_ids.add(new)
                    ids.append(new)
        return ids

    def _email(self, first: str, last: str, country: _Country, company: str | None) -> str:
        draw, pick, below = self.rng.random, self.pick, self.below
        f, l_ = _ascii(first), _ascii(last)
        roll = draw()
        if roll < 0.30:
            local = f"{f}.{l_}"
        elif roll < 0.50:
            local = f"{f}.{l_}{1 + below(999)}"
        elif roll < 0.58:
            local = f"{f}{l_}"
        elif roll < 0.66:
            local = f"{f[0]}{l_}"
        elif roll < 0.71:
            local = f"{f}_{l_}"
        elif roll < 0.81:
            local = f"{f}{1 + below(99)}"
        elif roll < 0.86:
            local = f"{l_}.{f}"
        elif roll < 0.90:
            local = f"{f}-{l_}"
        elif roll < 0.93:
            local = f"{f}.{l_}+{pick(_TAGS)}"
        else:
            local = f"{f[0]}.{l_}{60 + below(40)}"
        roll = draw()
        if company and roll < 0.6:
            domain = l_.replace("-", "") + (".com", ".co", ".net")[int(roll * 5)]
        elif roll < 0.25:
            domain = pick(country.domains)
        else:
            domain = self.pick_domain()
        roll = draw()
        if roll < 0.9:
            return f"{local}@{domain}"
        if roll < 0.96:  # people type their address the way they like
            return f"{local[0].upper()}{local[1:]}@{domain[0].upper()}{domain[1:]}"
        if roll < 0.98:
            return f"{local}@{domain}".upper()
        return f"{local.title()}@{domain}"

    def row(self, customer_id: str) -> tuple[Any, ...]:
        draw, pick, below = self.rng.random, self.pick, self.below
        created_at = self.start + timedelta(microseconds=self.step * self.index + below(self.step))
        self.index += 1
        updated_at = created_at + timedelta(seconds=below(86_400 * 30))
        if updated_at > self.now:
            updated_at = created_at
        country = self.pick_country()
        # A list mixes people of every origin.
        names = self.pick_country().names if draw() < 0.12 else country.names
        male = draw() < 0.5
        first = pick(names[0] if male else names[1])
        last = pick(names[2])
        place = self.pick_place[country]()
        company = f"{last} {pick(country.company_suffixes)}" if draw() < 0.07 else None
        email = self._email(first, last, country, company) if draw() < 0.92 else None
        if draw() >= 0.9:
            phone = None
        elif country.mobiles and draw() < 0.65:
            phone = f"{pick(country.mobiles)}{place.mobile_low + below(place.mobile_span)}"
        else:
            phone = f"{pick(place.landlines)}{place.landline_low + below(place.landline_span)}"
        if draw() < 0.004:  # anonymised: what service.anonymise leaves behind
            return (
                customer_id, self.account_id, self.customer_list_id, True, None, None, None, None, None, None,
                None, None, None, None, None, None, place.city, place.state, country.code, None, None, None,
                False, False, "{}", 0, 0, None, None, created_at, updated_at,
            )  # fmt: skip
        if draw() < 0.75:
            address_1 = pick(place.streets)
            address_2 = pick(_ADDRESS_2).format(n=1 + below(59), l=pick("ABCDEF")) if draw() < 0.15 else None
            postal_code = pick(place.postal_codes)
            city, state, country_code = place.city, place.state, country.code
            if draw() < 0.7:
                latitude = _micro_degrees(place.latitude + below(160_001) - 80_000)
                longitude = _micro_degrees(place.longitude + below(160_001) - 80_000)
            else:
                latitude = longitude = None
            notes = pick(_NOTES) if draw() < 0.08 else None
        else:
            address_1 = address_2 = postal_code = state = latitude = longitude = notes = None
            city = place.city if draw() < 0.3 else None
            country_code = country.code if draw() < 0.5 else None
        birth_date = date.fromordinal(self.first_birth + below(self.birth_days)) if draw() < 0.55 else None
        custom_json = pick(self.custom_fields) if draw() < 0.1 else "{}"
        return (
            customer_id,
            self.account_id,
            self.customer_list_id,
            False,
            email,
            email.lower() if email is not None else None,
            first,
            last,
            ("male" if male else "female") if draw() < 0.6 else None,
            birth_date,
            company,
            phone,
            str(1000 + below(9000)) if phone and draw() < 0.03 else None,
            address_1,
            address_2,
            postal_code,
            city,
            state,
            country_code,
            latitude,
            longitude,
            notes,
            phone is not None and draw() < 0.3,
            email is not None and draw() < 0.4,
            custom_json,
            0,
            0,
            None,
            None,
            created_at,
            updated_at,
        )

    def batch(self, count: int) -> list[tuple[Any, ...]]:
        """Rows whose ``custom_fields`` is JSON text (what the PostgreSQL COPY takes)."""
        return [self.row(customer_id) for customer_id in self._ids(count)]


async def _list_owner(conn: Any, customer_list_id: str) -> str:
    account_id = await conn.scalar(select(CustomerList.account_id).where(CustomerList.id == customer_list_id))
    if account_id is None:
        raise SeedError(f"no customer list {customer_list_id!r}")
    return account_id


# Above this many rows, and when the new rows are at least half the table, the PostgreSQL load drops the
# customer table's secondary indexes and foreign keys, and rebuilds them once the rows are in: building
# an index from sorted data is several times cheaper than maintaining it row by row.
BULK_THRESHOLD = 50_000
# Memory each index build may use in bulk mode (SET LOCAL: this transaction only).
BULK_MAINTENANCE_WORK_MEM = "256MB"

_SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
WHERE i.indrelid = 'customer'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
ORDER BY 1
"""
_FOREIGN_KEYS = """
SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE conrelid = 'customer'::regclass AND contype = 'f'
ORDER BY 1
"""


async def _seed_postgresql(
    db: Database, customer_list_id: str, count: int, factory_args: dict, bulk: bool | None
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - clock, 2)
        clock = now

    async with db.write_engine.begin() as conn:
        account_id = await _list_owner(conn, customer_list_id)
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        if bulk is None:
            existing = await driver.fetchval(
                "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'customer'::regclass"
            )
            bulk = count >= BULK_THRESHOLD and 2 * count >= existing
        indexes = foreign_keys = []
        if bulk:
            # Taken first so that no reader sees the table without its indexes.
            await driver.execute("LOCK TABLE customer IN ACCESS EXCLUSIVE MODE")
            indexes = await driver.fetch(_SECONDARY_INDEXES)
            foreign_keys = await driver.fetch(_FOREIGN_KEYS)
            for row in foreign_keys:
                await driver.execute(f"ALTER TABLE customer DROP CONSTRAINT {row['name']}")
            for row in indexes:
                await driver.execute(f"DROP INDEX {row['name']}")
        lap("prepare")
        factory = CustomerFactory(account_id, customer_list_id, count, **factory_args)
        done = 0
        while done < count:
            rows = factory.batch(min(BATCH_SIZE, count - done))
            lap("generate")
            await driver.copy_records_to_table("customer", records=rows, columns=COLUMNS)
            lap("copy")
            done += len(rows)
        if bulk:
            await driver.execute(f"SET LOCAL maintenance_work_mem = '{BULK_MAINTENANCE_WORK_MEM}'")
            for row in indexes:
                await driver.execute(row["definition"])
            lap("indexes")
            for row in foreign_keys:
                await driver.execute(f"ALTER TABLE customer ADD CONSTRAINT {row['name']} {row['definition']}")
            lap("foreign_keys")
    lap("commit")
    # Fresh statistics (and a flushed trigram pending list) so that the very next search plans well.
    async with db.write_engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) customer"))
    lap("vacuum_analyze")
    return {"mode": "bulk" if bulk else "in place", "timings": timings}


async def _seed_sqlite(db: Database, customer_list_id: str, count: int, factory_args: dict) -> dict[str, Any]:
    table = Customer.__table__
    async with db.session(write=True) as session:
        conn = await session.connection()
        account_id = await _list_owner(conn, customer_list_id)
        factory = CustomerFactory(account_id, customer_list_id, count, **factory_args)
        done = 0
        while done < count:
            rows = factory.batch(min(BATCH_SIZE, count - done))
            values = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
            for value in values:
                value["custom_fields"] = json.loads(value["custom_fields"])
            await conn.execute(insert(table), values)
            done += len(rows)
    async with db.session(write=True) as session:
        await session.execute(text("ANALYZE customer"))
    return {"mode": "in place"}


async def seed_customers(
    settings: Settings, customer_list_id: str, count: int, *, seed: int | None = None, bulk: bool | None = None
) -> dict[str, Any]:
    """Adds ``count`` synthetic customers to the list, in one transaction.

    ``seed`` makes them reproducible. ``bulk`` (PostgreSQL) forces or forbids rebuilding the customer
    table's indexes and foreign keys around the load instead of maintaining them row by row; by default
    it is chosen for big loads (see ``BULK_THRESHOLD``). A bulk load holds an exclusive lock on the whole
    customer table until it commits: other lists can't be read meanwhile.
    """
    if count < 1:
        raise SeedError("count must be at least 1")
    started = time.perf_counter()
    db = Database(settings)
    factory_args = {"rng": random.Random(seed)} if seed is not None else {}
    try:
        if db.dialect == "postgresql":
            details = await _seed_postgresql(db, customer_list_id, count, factory_args, bulk)
        else:
            details = await _seed_sqlite(db, customer_list_id, count, factory_args)
        async with db.session(write=False) as session:
            total = await session.scalar(
                select(func.count()).select_from(Customer).where(Customer.customer_list_id == customer_list_id)
            )
    finally:
        await db.dispose()
    return {
        "customer_list_id": customer_list_id,
        "inserted": count,
        "total": total,
        "seconds": round(time.perf_counter() - started, 2),
        **details,
    }
