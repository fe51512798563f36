//! The sheets and columns of an import file, as data: the template is written from this table
//! and files are read by it, so the two cannot disagree. Column keys are the API's field names;
//! a header may also be the column's German name.

/// Which kind of record a sheet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SheetKind {
    Users,
    Phones,
    Workplaces,
    Phonebook,
    SpeedDials,
    ActionTemplates,
}

#[derive(Debug)]
pub struct SheetDef {
    pub kind: SheetKind,
    /// The sheet's name in the template.
    pub name: &'static str,
    /// Its German name, also accepted.
    pub german: &'static str,
    pub about_de: &'static str,
    pub about_en: &'static str,
    pub columns: &'static [ColumnDef],
}

#[derive(Debug)]
pub struct ColumnDef {
    /// Header in the template; the API's field name.
    pub key: &'static str,
    /// The seed's German name, also accepted as a header.
    pub german: &'static str,
    pub note_de: &'static str,
    pub note_en: &'static str,
    /// The words the column takes (a drop-down list in the template); empty: free text.
    pub choices: &'static [&'static str],
    /// An example value for the notes sheet.
    pub example: &'static str,
}

const YES_NO: &[&str] = &["yes", "no"];
const ROLES: &[&str] = &[
    "system-admin",
    "admin",
    "telephony-admin",
    "phonebook-admin",
];

const fn col(
    key: &'static str,
    german: &'static str,
    note_de: &'static str,
    note_en: &'static str,
    choices: &'static [&'static str],
    example: &'static str,
) -> ColumnDef {
    ColumnDef {
        key,
        german,
        note_de,
        note_en,
        choices,
        example,
    }
}

/// The notes sheet's name; it is never imported.
pub const NOTES: &str = "Notes";
pub const NOTES_GERMAN: &str = "Hinweise";

pub const SHEETS: &[SheetDef] = &[
    SheetDef {
        kind: SheetKind::Users,
        name: "Users",
        german: "Benutzer",
        about_de: "Ein Benutzer je Zeile, wie in der Schnellanlage. Erkannt am Anmeldenamen: vorhandene Benutzer werden geändert, neue angelegt.",
        about_en: "One user per row, as in quick-create. Matched by username: existing users are updated, new ones created.",
        columns: &[
            col(
                "username",
                "Anmeldename",
                "Pflicht. Kleinbuchstaben, Ziffern, . - _",
                "Required. Lowercase letters, digits, . - _",
                &[],
                "anna.schmidt",
            ),
            col(
                "display_name",
                "Anzeigename",
                "Pflicht. Den Namen sehen Angerufene.",
                "Required. The name people called see.",
                &[],
                "Anna Schmidt",
            ),
            col(
                "extension",
                "Durchwahl",
                "Ziffern; eindeutig unter allen Durchwahlen.",
                "Digits; unique among all extensions.",
                &[],
                "100",
            ),
            col(
                "auth",
                "Anmeldung",
                "local (Passwort in zentrale), ldap oder none; leer bei neuen Benutzern: local.",
                "local (password kept here), ldap or none; empty for a new user: local.",
                &["local", "ldap", "none"],
                "local",
            ),
            col(
                "password",
                "Passwort",
                "Mindestens 8 Zeichen; Pflicht bei auth local. Wird nur gesetzt, wenn der Benutzer noch keins hat (außer mit --reset-secrets).",
                "At least 8 characters; required for auth local. Set only if the user has none yet (unless --reset-secrets).",
                &[],
                "Sommer-2026!",
            ),
            col(
                "pin",
                "PIN",
                "Mindestens 4 Ziffern, für die Anmeldung am Telefon. Wie das Passwort nur gesetzt, wenn noch keine da ist.",
                "At least 4 digits, for logging in at a phone. Like the password, set only if there is none yet.",
                &[],
                "4711",
            ),
            col(
                "fax_extension",
                "Fax-Durchwahl",
                "Legt ein virtuelles Faxgerät an; - entfernt es.",
                "Creates a virtual fax device; - removes it.",
                &[],
                "190",
            ),
            col(
                "email",
                "E-Mail-Adresse",
                "Für Faxe und Voicemails.",
                "For faxes and voicemails.",
                &[],
                "anna@example.com",
            ),
            col(
                "language",
                "Bevorzugte Sprache",
                "Sprache der Ansagen; leer bei neuen Benutzern: die des Servers.",
                "Language of the prompts; empty for a new user: the server's.",
                &["de", "en"],
                "de",
            ),
            col(
                "voicemail",
                "Voicemailbox verwenden",
                "none, external (Extern/Nachher), internal (Intern/Nachher) oder all; leer bei neuen Benutzern: none.",
                "none, external, internal or all; empty for a new user: none.",
                &["none", "external", "internal", "all"],
                "all",
            ),
            col(
                "softphone",
                "Softphone",
                "yes legt ein Softphone an, no entfernt es.",
                "yes creates a softphone, no removes it.",
                YES_NO,
                "yes",
            ),
            col(
                "mobile_number",
                "Mobiltelefon",
                "Legt ein Mobiltelefon mit dieser Nummer an; - entfernt es.",
                "Creates a mobile device with this number; - removes it.",
                &[],
                "+491701234567",
            ),
            col(
                "role",
                "Rolle",
                "Administrationsrechte; - entfernt sie.",
                "Admin rights; - removes them.",
                ROLES,
                "phonebook-admin",
            ),
            col(
                "action_template",
                "Aktionsvorlage",
                "Name einer Aktionsvorlage (Blatt ActionTemplates oder vorhanden).",
                "Name of an action template (sheet ActionTemplates, or existing).",
                &[],
                "standard",
            ),
        ],
    },
    SheetDef {
        kind: SheetKind::Phones,
        name: "Phones",
        german: "Telefone",
        about_de: "IP-Telefone, erkannt an der MAC-Adresse. Zugewiesen an einen Benutzer oder einen Arbeitsplatz (nicht beides).",
        about_en: "IP phones, matched by MAC address. Assigned to a user or a workplace (not both).",
        columns: &[
            col(
                "mac",
                "MAC-Adresse",
                "Pflicht. 12 Hex-Ziffern, mit : - . oder ohne Trenner.",
                "Required. 12 hex digits, with : - . or no separators.",
                &[],
                "00:15:65:AA:BB:CC",
            ),
            col(
                "vendor",
                "Hersteller",
                "Hersteller für die Provisionierung.",
                "Vendor, for provisioning.",
                &[
                    "yealink",
                    "snom",
                    "poly",
                    "grandstream",
                    "fanvil",
                    "gigaset",
                    "cisco",
                ],
                "yealink",
            ),
            col(
                "model",
                "Modell",
                "Modell, z. B. T54W.",
                "Model, e.g. T54W.",
                &[],
                "T54W",
            ),
            col(
                "label",
                "Bezeichnung",
                "Leer bei neuen Telefonen, oder -: aus Hersteller, Modell und MAC.",
                "Empty for a new phone, or -: made from vendor, model and MAC.",
                &[],
                "Empfang links",
            ),
            col(
                "user",
                "Benutzer",
                "Anmeldename des Benutzers, dem das Telefon gehört; - nimmt es ihm weg.",
                "Username of the user the phone belongs to; - unassigns it.",
                &[],
                "anna.schmidt",
            ),
            col(
                "workplace",
                "Arbeitsplatz",
                "Name des Arbeitsplatzes, an dem das Telefon steht.",
                "Name of the workplace the phone is at.",
                &[],
                "empfang",
            ),
        ],
    },
    SheetDef {
        kind: SheetKind::Workplaces,
        name: "Workplaces",
        german: "Arbeitsplätze",
        about_de: "Arbeitsplätze, erkannt am Namen. Ihre Telefone stehen im Blatt Phones.",
        about_en: "Workplaces, matched by name. Their phones are on the Phones sheet.",
        columns: &[
            col(
                "name",
                "Name",
                "Pflicht. Kleinbuchstaben, Ziffern, . - _",
                "Required. Lowercase letters, digits, . - _",
                &[],
                "empfang",
            ),
            col(
                "display_name",
                "Anzeigename",
                "Leer bei neuen, oder -: der Name.",
                "Empty for a new one, or -: the name.",
                &[],
                "Empfang",
            ),
            col(
                "allowed_users",
                "Erlaubte Benutzer",
                "Anmeldenamen, durch Komma getrennt; - leert die Liste. Sind beide Listen leer, darf sich jeder anmelden.",
                "Usernames, comma-separated; - empties the list. With both lists empty everyone may log in.",
                &[],
                "anna.schmidt, bernd",
            ),
            col(
                "allowed_roles",
                "Erlaubte Rollen",
                "Rollen, durch Komma getrennt.",
                "Roles, comma-separated.",
                &[],
                "admin",
            ),
        ],
    },
    SheetDef {
        kind: SheetKind::Phonebook,
        name: "Phonebook",
        german: "Telefonbuch",
        about_de: "Das globale Telefonbuch, erkannt an Name und Nummer zusammen.",
        about_en: "The global phonebook, matched by name and number together.",
        columns: &[
            col(
                "name",
                "Anzeigename",
                "Pflicht.",
                "Required.",
                &[],
                "ACME GmbH Zentrale",
            ),
            col(
                "number",
                "Telefon",
                "Pflicht. Rufnummer oder Durchwahl.",
                "Required. Phone number or extension.",
                &[],
                "+4930123456",
            ),
            col("company", "Firma", "", "", &[], "ACME GmbH"),
            col("email", "E-Mail", "", "", &[], "info@acme.example"),
            col("mobile", "Mobil", "", "", &[], "+491709876543"),
            col("fax", "Fax", "", "", &[], "+4930123457"),
            col(
                "notes",
                "Notizen",
                "Eine Zeile.",
                "One line.",
                &[],
                "Kunde seit 2019",
            ),
        ],
    },
    SheetDef {
        kind: SheetKind::SpeedDials,
        name: "SpeedDials",
        german: "Kurzwahlen",
        about_de: "Kurzwahlen für alle, erkannt an der Kurzwahl. Sie darf keiner Durchwahl gleichen.",
        about_en: "Speed dials for everyone, matched by code. A code may not equal any extension.",
        columns: &[
            col(
                "code",
                "Kurzwahl",
                "Pflicht. Ziffern.",
                "Required. Digits.",
                &[],
                "801",
            ),
            col(
                "name",
                "Name",
                "Pflicht.",
                "Required.",
                &[],
                "Notdienst Heizung",
            ),
            col(
                "number",
                "Rufnummer",
                "Pflicht. Die gewählte Nummer.",
                "Required. The number dialled.",
                &[],
                "+49301234567",
            ),
        ],
    },
    SheetDef {
        kind: SheetKind::ActionTemplates,
        name: "ActionTemplates",
        german: "Aktionsvorlagen",
        about_de: "Aktionsvorlagen: eine Zeile je Aktion, mehrere Zeilen mit demselben Vorlagennamen bilden eine Vorlage (in dieser Reihenfolge). Eine Zeile nur mit dem Namen legt eine leere Vorlage an (eine vorhandene bleibt, wie sie ist); - als Aktion leert sie.",
        about_en: "Action templates: one row per action; rows with the same template name make one template (in this order). A row with only the name makes an empty template (an existing one stays as it is); - as the kind empties it.",
        columns: &[
            col(
                "template",
                "Vorlage",
                "Pflicht. Name der Vorlage.",
                "Required. Name of the template.",
                &[],
                "standard",
            ),
            col(
                "scope",
                "Anrufart",
                "internal (Intern) oder external (Extern).",
                "internal or external.",
                &["internal", "external"],
                "external",
            ),
            col(
                "timing",
                "Zeitpunkt",
                "before (Vorher) oder after (Nachher).",
                "before or after ringing.",
                &["before", "after"],
                "after",
            ),
            col(
                "kind",
                "Aktion",
                "Was geschieht.",
                "What happens.",
                &[
                    "voicemail",
                    "forward-user",
                    "forward-number",
                    "announcement",
                ],
                "voicemail",
            ),
            col(
                "target",
                "Ziel",
                "Benutzer, Rufnummer oder Ansage; bei voicemail leer: die eigene Box.",
                "User, number or prompt; for voicemail empty: the own box.",
                &[],
                "",
            ),
        ],
    },
];

/// The definition of a sheet named `name` (English or German, any case).
pub fn sheet_named(name: &str) -> Option<&'static SheetDef> {
    let name = name.trim();
    SHEETS.iter().find(|s| {
        s.name.eq_ignore_ascii_case(name) || s.german.to_lowercase() == name.to_lowercase()
    })
}

/// Whether `name` is the notes sheet (never imported).
pub fn is_notes(name: &str) -> bool {
    let name = name.trim();
    name.eq_ignore_ascii_case(NOTES) || name.eq_ignore_ascii_case(NOTES_GERMAN)
}

impl SheetDef {
    /// The column a header names (key or German name, any case, spaces trimmed).
    pub fn column_named(&self, header: &str) -> Option<&'static ColumnDef> {
        let header = header.trim().to_lowercase();
        self.columns
            .iter()
            .find(|c| c.key == header || c.german.to_lowercase() == header)
    }

    /// The key column: the first.
    pub fn key(&self) -> &'static str {
        self.columns[0].key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(kind: SheetKind) -> &'static SheetDef {
        SHEETS
            .iter()
            .find(|s| s.kind == kind)
            .expect("every kind has a sheet")
    }

    #[test]
    fn names_and_keys_are_unique_and_choices_are_the_stores_words() {
        let mut sheet_names = std::collections::HashSet::new();
        for sheet in SHEETS {
            assert!(sheet_names.insert(sheet.name.to_lowercase()));
            assert!(sheet_names.insert(sheet.german.to_lowercase()));
            let mut keys = std::collections::HashSet::new();
            for c in sheet.columns {
                assert!(keys.insert(c.key), "{} {}", sheet.name, c.key);
                assert!(keys.insert(c.german), "{} {}", sheet.name, c.german);
                assert_eq!(
                    sheet.column_named(&c.german.to_uppercase()).map(|d| d.key),
                    Some(c.key)
                );
            }
        }
        let words = |all: &[&str], choices: &[&str]| choices.iter().all(|w| all.contains(w));
        use crate::store::{Auth, Role, Vendor, VoicemailMode};
        let of = |v: Vec<&'static str>| v;
        let users = sheet(SheetKind::Users);
        let choices = |key: &str| users.column_named(key).map(|c| c.choices).unwrap_or(&[]);
        assert!(words(
            &of(Auth::ALL.iter().map(|a| a.as_str()).collect()),
            choices("auth")
        ));
        assert!(words(
            &of(Role::ALL.iter().map(|a| a.as_str()).collect()),
            choices("role")
        ));
        assert!(words(
            &of(VoicemailMode::ALL.iter().map(|a| a.as_str()).collect()),
            choices("voicemail")
        ));
        let vendors = sheet(SheetKind::Phones)
            .column_named("vendor")
            .map(|c| c.choices);
        assert_eq!(vendors.map(<[&str]>::len), Some(Vendor::ALL.len()));
        assert!(sheet_named("arbeitsplätze").is_some() && sheet_named(" users ").is_some());
    }
}
