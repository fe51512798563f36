//! The domain as the API and CLI see it: what goes in (`New*`, `*Patch`) and what comes out.
//! Secrets only ever go in: no output type has a field for a password, PIN or SIP secret.

use crate::clock::UnixTime;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::secret::Secret;

/// A closed set of lowercase words, stored as text and spoken as JSON strings.
macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name { $(#[serde(rename = $word)] #[schema(rename = $word)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($word => Some($name::$variant),)+ _ => None }
            }
        }

        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<DB>>::decode(value)?;
                $name::parse(text)
                    .ok_or_else(|| format!("unknown {} {text:?}", stringify!($name)).into())
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut DB::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                let text: &'q str = self.as_str();
                text.encode_by_ref(buf)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// How a user logs in to clients [Anmeldung].
    Auth { Local = "local", Ldap = "ldap", None = "none" }
);
word_enum!(
    /// Which calls go to the user's voicemail [Voicemailbox verwenden].
    VoicemailMode { None = "none", External = "external", Internal = "internal", All = "all" }
);
word_enum!(
    /// Administration rights [Benutzerrechte im Web-UI].
    Role {
        SystemAdmin = "system-admin",
        Admin = "admin",
        TelephonyAdmin = "telephony-admin",
        PhonebookAdmin = "phonebook-admin",
    }
);
word_enum!(
    DeviceKind { IpPhone = "ip-phone", Softphone = "softphone", Mobile = "mobile", Fax = "fax" }
);
word_enum!(
    /// The folder names in provisioning-templates/.
    Vendor {
        Yealink = "yealink",
        Snom = "snom",
        Poly = "poly",
        Grandstream = "grandstream",
        Fanvil = "fanvil",
        Gigaset = "gigaset",
        Cisco = "cisco",
    }
);
word_enum!(FaxFormat { Pdf = "pdf", Tiff = "tiff" });
word_enum!(
    /// Call class of an action [Intern/Extern].
    Scope { Internal = "internal", External = "external" }
);
word_enum!(
    /// When an action runs: before ringing or after nobody answered [Vorher/Nachher].
    Timing { Before = "before", After = "after" }
);
word_enum!(
    ActionKind {
        Voicemail = "voicemail",
        ForwardUser = "forward-user",
        ForwardNumber = "forward-number",
        Announcement = "announcement",
    }
);
word_enum!(
    /// When a call forwarding applies.
    ForwardCondition { Always = "always", Busy = "busy", NoAnswer = "no-answer", Unavailable = "unavailable" }
);
word_enum!(
    /// The class of a recorded call [Intern/Extern/Agent].
    CallClass { Internal = "internal", External = "external", Team = "team" }
);
word_enum!(
    /// How a recorded call ended: a device answered; every rung device was busy or declined;
    /// devices rang out; nothing could be rung; the caller hung up first; refused before
    /// ringing (unknown number, not allowed); something failed.
    CallOutcome {
        Answered = "answered",
        Busy = "busy",
        NoAnswer = "no-answer",
        Unavailable = "unavailable",
        Cancelled = "cancelled",
        Rejected = "rejected",
        Failed = "failed",
    }
);
word_enum!(
    /// Where a device stands in provisioning.
    ProvState { New = "new", Enrolling = "enrolling", Provisioned = "provisioned" }
);

impl Role {
    /// Whether this role may grant `role` (or change someone who has it): up to its own rank.
    pub fn may_grant(self, role: Option<Role>) -> bool {
        role.is_none_or(|r| r.rank() <= self.rank())
    }

    /// How much a role may do; a role may only grant roles up to its own rank.
    pub fn rank(self) -> u8 {
        match self {
            Role::SystemAdmin => 4,
            Role::Admin => 3,
            Role::TelephonyAdmin => 2,
            Role::PhonebookAdmin => 1,
        }
    }
}

/// Reads a field that may be absent (keep), `null` (clear) or a value (set).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The quick-create form [Schnellanlage].
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub extension: Option<String>,
    /// Default `local`.
    #[serde(default)]
    pub auth: Option<Auth>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password, write_only)]
    pub password: Option<Secret>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password, write_only)]
    pub pin: Option<Secret>,
    #[serde(default)]
    pub fax_extension: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub voicemail: Option<VoicemailMode>,
    #[serde(default)]
    pub softphone: bool,
    #[serde(default)]
    pub mobile_number: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// The action template [Aktionsvorlage] the user follows.
    #[serde(default)]
    pub action_template: Option<String>,
}

/// A change to a user; absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub extension: Option<Option<String>>,
    #[serde(default)]
    pub auth: Option<Auth>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Password, write_only)]
    pub password: Option<Option<Secret>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Password, write_only)]
    pub pin: Option<Option<Secret>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub fax_extension: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub voicemail: Option<VoicemailMode>,
    #[serde(default)]
    pub softphone: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub mobile_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Role>)]
    pub role: Option<Option<Role>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub action_template: Option<Option<String>>,
}

/// A user as the API shows it. No secrets: only whether they are set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub extension: Option<String>,
    pub auth: Auth,
    pub has_password: bool,
    pub has_pin: bool,
    pub fax_extension: Option<String>,
    pub email: Option<String>,
    pub language: String,
    pub voicemail: VoicemailMode,
    pub softphone: bool,
    pub mobile_number: Option<String>,
    pub role: Option<Role>,
    pub cid_number: Option<String>,
    /// The action template the user follows, if any.
    pub action_template: Option<String>,
    pub phone_status: PhoneStatus,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

word_enum!(
    /// Summary of [`PhoneStatus`]: at a workplace wins over own phones.
    PhoneState { Workplace = "workplace", Direct = "direct", None = "none" }
);

/// The user's phone status [Telefonstatus]: logged in at a workplace, has own phones, or none.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhoneStatus {
    pub state: PhoneState,
    pub workplace: Option<String>,
    pub logged_in_since: Option<UnixTime>,
    pub direct_devices: i64,
    /// At least one phone of the user's ring set (own phones and softphones, and those of the
    /// workplace they are logged in at) is registered. Filled in by the API from the
    /// registrar.
    pub reachable: bool,
    /// A phone of the ring set is ringing for a call (BLF's `early`). Filled in by the API.
    pub ringing: bool,
    /// A phone of the ring set is in a call, as caller or callee (BLF's `confirmed`). Filled
    /// in by the API.
    pub busy: bool,
    /// The ring set's phones (for `reachable`, `ringing`, `busy`; not shown).
    #[serde(skip)]
    #[schema(ignore)]
    pub ring_devices: Vec<i64>,
}

/// Voicemail box settings [Voicemailbox].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoicemailSettings {
    /// Keep messages after mailing them [Voicemails speichern]; default no.
    #[serde(default)]
    pub keep_messages: bool,
    /// Where messages are mailed; the user's email when null.
    #[serde(default)]
    pub email: Option<String>,
    /// Username whose box this user monitors; the own box when null.
    #[serde(default)]
    pub monitored_mailbox: Option<String>,
}

/// Virtual fax device settings [Virtuelles Faxgerät].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaxSettings {
    #[serde(default)]
    pub email: Option<String>,
    pub extension: String,
    /// Outgoing fax id printed on sent faxes [ausgehende Faxkennung].
    #[serde(default)]
    pub header_id: Option<String>,
    #[serde(default = "default_fax_format")]
    pub format: FaxFormat,
    /// Whether received faxes stay in the inbox (`…/fax/inbox`) once SMTP accepted their mail;
    /// the seed has no such switch, so they stay unless this says otherwise.
    #[serde(default = "default_keep_faxes")]
    pub keep_faxes: bool,
}

fn default_keep_faxes() -> bool {
    true
}

fn default_fax_format() -> FaxFormat {
    FaxFormat::Pdf
}

/// The user's own phonebook entry [Telefonbuch]; name and number come from the user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPhonebook {
    pub enabled: bool,
    /// Further fields shown with the entry (company, mobile, ...).
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

/// Alternative caller id [CID Nummer].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CidSettings {
    pub cid_number: Option<String>,
}

/// One call class of FollowMe [Warten/Läuten].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RingPolicy {
    pub enabled: bool,
    /// Seconds before the device starts ringing.
    pub wait: u32,
    /// Seconds the device rings.
    pub timeout: u32,
}

/// FollowMe of one device for its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowMe {
    #[serde(default)]
    pub user_configurable: bool,
    pub internal: RingPolicy,
    pub external: RingPolicy,
    pub team: RingPolicy,
}

impl Default for FollowMe {
    fn default() -> Self {
        let ring = RingPolicy {
            enabled: true,
            wait: 0,
            timeout: 30,
        };
        FollowMe {
            user_configurable: false,
            internal: ring,
            external: ring,
            team: ring,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    pub kind: Option<DeviceKind>,
    #[serde(default)]
    pub mac: Option<String>,
    #[serde(default)]
    pub vendor: Option<Vendor>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// Phone number of a mobile device.
    #[serde(default)]
    pub number: Option<String>,
    /// Owner: a username ...
    #[serde(default)]
    pub user: Option<String>,
    /// ... or a workplace name.
    #[serde(default)]
    pub workplace: Option<String>,
    /// SIP password; generated when absent. Write-only.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password, write_only)]
    pub sip_password: Option<Secret>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevicePatch {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub mac: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vendor>)]
    pub vendor: Option<Option<Vendor>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub number: Option<Option<String>>,
    /// Assign to a user (null: unassign).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub user: Option<Option<String>>,
    /// Assign to a workplace (null: unassign).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub workplace: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password, write_only)]
    pub sip_password: Option<Secret>,
}

/// A device as the API shows it; its SIP password is never part of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Device {
    pub id: i64,
    pub kind: DeviceKind,
    pub mac: Option<String>,
    pub vendor: Option<Vendor>,
    pub model: Option<String>,
    pub label: String,
    pub number: Option<String>,
    pub sip_username: String,
    pub user: Option<String>,
    pub workplace: Option<String>,
    pub followme: Option<FollowMe>,
    pub provisioning: Provisioning,
    /// Phone status [Telefonstatus]: where the device is registered (filled in by the API from
    /// the registrar; the store does not keep it).
    pub sip: SipStatus,
    pub created_at: UnixTime,
}

/// Whether and where a device is registered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SipStatus {
    pub registered: bool,
    pub registrations: Vec<Registration>,
    /// Rung for a call now.
    pub ringing: bool,
    /// In a call now (calling, or answered).
    pub busy: bool,
}

/// A trunk [Amt] as the SIP service last saw it (`GET /api/v1/trunks`); never its password or
/// username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrunkStatus {
    pub name: String,
    /// As configured: `host:port`.
    pub address: String,
    /// `udp` or `tcp`.
    pub transport: String,
    /// Whether zentrale keeps a registration there.
    pub register: bool,
    /// Registered at the provider now.
    pub registered: bool,
    /// Until when the registration holds (unix seconds), while registered.
    pub expires_at: Option<UnixTime>,
    /// The provider's last final answer to our REGISTER.
    pub last_status: Option<u16>,
    /// The addresses the host resolved to (empty until it did).
    pub resolved: Vec<String>,
}

/// One registered contact of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Registration {
    /// The Contact as the phone registered it.
    pub contact: String,
    /// `udp` or `tcp`.
    pub transport: String,
    /// Where the REGISTER came from (after any NAT).
    pub source: String,
    pub user_agent: Option<String>,
    pub expires_at: UnixTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Provisioning {
    pub state: ProvState,
    pub enroll_until: Option<UnixTime>,
    pub firmware: Option<String>,
    pub last_ip: Option<String>,
    pub last_seen: Option<UnixTime>,
    /// The file the phone fetched last.
    pub last_file: Option<String>,
    /// The model the phone reported (User-Agent or file name).
    pub reported_model: Option<String>,
    /// A login or logout changed its config and the phone has not fetched it yet (the SIP
    /// work sends it a NOTIFY).
    pub resync_pending: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkplace {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Usernames allowed to log in here; everyone when both lists are empty.
    #[serde(default)]
    pub allowed_users: Vec<String>,
    #[serde(default)]
    pub allowed_roles: Vec<Role>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkplacePatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub allowed_users: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_roles: Option<Vec<Role>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Workplace {
    pub name: String,
    pub display_name: String,
    pub allowed_users: Vec<String>,
    pub allowed_roles: Vec<Role>,
    pub current_user: Option<String>,
    pub logged_in_since: Option<UnixTime>,
    pub devices: Vec<Device>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewForwarding {
    #[serde(default = "default_condition")]
    pub condition: ForwardCondition,
    /// A username, or a number to dial.
    pub target: String,
    #[serde(default)]
    pub active: bool,
}

fn default_condition() -> ForwardCondition {
    ForwardCondition::Always
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardingPatch {
    #[serde(default)]
    pub condition: Option<ForwardCondition>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Forwarding {
    pub id: i64,
    pub username: String,
    pub condition: ForwardCondition,
    pub target: String,
    pub active: bool,
}

/// An action as given: to a user (`POST /users/{username}/actions`) or as a step of an action
/// template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    pub scope: Scope,
    pub timing: Timing,
    pub kind: ActionKind,
    /// Username (forward-user), number (forward-number), prompt name (announcement); voicemail:
    /// a username whose box takes the call, the own box when absent.
    #[serde(default)]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Action {
    pub id: i64,
    pub scope: Scope,
    pub timing: Timing,
    pub kind: ActionKind,
    pub target: Option<String>,
    pub position: i64,
}

/// An action template [Aktionsvorlage]: actions many users share. A user who follows it gets
/// its actions for every (scope, timing) they have no own action for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActionTemplate {
    pub name: String,
    pub actions: Vec<NewAction>,
    /// Users who follow it.
    pub users: Vec<String>,
}

/// The body of `PUT /action-templates/{name}`: its actions, in order.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionTemplateBody {
    pub actions: Vec<NewAction>,
}

/// A speed dial [Kurzwahl]: a short code anyone dials for a longer number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SpeedDial {
    /// Digits; unique among all extensions, fax and speed-dial numbers.
    pub code: String,
    pub name: String,
    /// The number it dials: outside (`+49…`) or inside.
    pub number: String,
}

/// The body of `PUT /speed-dials/{code}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeedDialBody {
    pub name: String,
    pub number: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPhonebookEntry {
    pub name: String,
    pub number: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhonebookPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub company: Option<Option<String>>,
    #[serde(default)]
    pub extra: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhonebookEntry {
    pub id: i64,
    pub name: String,
    pub number: String,
    pub company: Option<String>,
    pub extra: BTreeMap<String, String>,
}

/// An admin account that is not a phone user.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdmin {
    pub username: String,
    #[schema(value_type = String, format = Password, write_only)]
    pub password: Secret,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Admin {
    pub username: String,
    pub role: Role,
    pub created_at: UnixTime,
}
