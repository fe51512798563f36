//! The menu's words in German and English. Short: phone displays show 16 to 32 characters.

/// Every text the menu shows, in one language.
#[derive(Debug)]
pub struct Texts {
    pub menu: &'static str,
    pub login: &'static str,
    pub logout: &'static str,
    pub status: &'static str,
    pub forwardings: &'static str,
    pub followme: &'static str,
    pub extension: &'static str,
    pub pin: &'static str,
    pub wrong: &'static str,
    pub locked: &'static str,
    pub not_allowed: &'static str,
    pub logged_in: &'static str,
    pub logged_out: &'static str,
    pub nobody: &'static str,
    pub since: &'static str,
    pub not_assigned: &'static str,
    pub none: &'static str,
    pub on: &'static str,
    pub off: &'static str,
    pub direct: &'static str,
    pub bad_input: &'static str,
    pub busy: &'static str,
}

const DE: Texts = Texts {
    menu: "Menü",
    login: "Anmelden",
    logout: "Abmelden",
    status: "Status",
    forwardings: "Rufumleitungen",
    followme: "FollowMe",
    extension: "Durchwahl",
    pin: "PIN",
    wrong: "Durchwahl oder PIN falsch.",
    locked: "Zu viele Versuche. Bitte später erneut versuchen.",
    not_allowed: "Sie dürfen sich an diesem Arbeitsplatz nicht anmelden.",
    logged_in: "Angemeldet",
    logged_out: "Abgemeldet.",
    nobody: "Niemand angemeldet.",
    since: "seit",
    not_assigned: "Dieses Telefon gehört weder einem Benutzer noch einem Arbeitsplatz.",
    none: "Keine vorhanden.",
    on: "an",
    off: "aus",
    direct: "Telefon von",
    bad_input: "Bitte nur Ziffern eingeben.",
    busy: "Gerade ausgelastet. Bitte gleich erneut versuchen.",
};

const EN: Texts = Texts {
    menu: "Menu",
    login: "Log in",
    logout: "Log out",
    status: "Status",
    forwardings: "Call forwarding",
    followme: "FollowMe",
    extension: "Extension",
    pin: "PIN",
    wrong: "Wrong extension or PIN.",
    locked: "Too many attempts. Please try again later.",
    not_allowed: "You may not log in at this workplace.",
    logged_in: "Logged in",
    logged_out: "Logged out.",
    nobody: "Nobody is logged in.",
    since: "since",
    not_assigned: "This phone belongs to no user and no workplace.",
    none: "None.",
    on: "on",
    off: "off",
    direct: "Phone of",
    bad_input: "Please enter digits only.",
    busy: "Busy right now. Please try again shortly.",
};

/// The texts for `language` (`de` or `en`); anything else gets English.
pub fn texts(language: &str) -> &'static Texts {
    if language == "de" { &DE } else { &EN }
}
