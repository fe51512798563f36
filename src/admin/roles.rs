//! The seed's four admin roles as a table of areas: every route names its area, and a role
//! reaches a route only if this table lets it reach the area (default deny).

use crate::store::Role;

/// What a route touches, in the seed's words where it has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Users, their settings, devices, forwardings, actions.
    Users,
    Devices,
    Workplaces,
    /// The phonebook [Telefonbuch], global and users' entries.
    Phonebook,
    /// Admin accounts.
    Accounts,
    /// The caller's own session: who am I, my tokens.
    Session,
    /// The mail queue and the test mail: admin and above. The seed's list has no word for it;
    /// retrying and deleting other users' voicemails sits with restarting services and cron
    /// jobs, which the telephony admin does not get either.
    Mail,
    /// Call records: who called whom, when. The seed's list has no word for it; they are the
    /// telephony admin's tool for "why did my phone not ring", so every role that manages
    /// users' telephony reads them, the phonebook admin does not.
    CallRecords,
    /// Users' voicemail boxes: list messages, their metadata, mark heard, delete; greetings.
    /// Whoever manages users' telephony; the owner always (see [`own_voicemail`]).
    Voicemail,
    /// Listening to a user's recorded messages (`…/messages/{id}/audio`). A private recording:
    /// besides its owner only the system admin, whose full backup holds the files anyway; the
    /// admin and the telephony admin, who may not take a full backup, may not listen.
    VoicemailAudio,
    /// Users' fax inboxes: list received faxes, their metadata (sender, pages, result, mail
    /// state), delete. Like [`Area::Voicemail`]: whoever manages users' telephony answers "my
    /// fax did not arrive" from it; the owner always (see [`own_voicemail`]).
    Fax,
    /// Reading a received fax (`…/fax/inbox/{id}/document`). A fax is a letter to its owner:
    /// like [`Area::VoicemailAudio`], besides the owner only the system admin, whose full
    /// backup holds the files anyway; the admin and the telephony admin may not open it.
    FaxDocument,
    // Areas the seed names that have no routes yet; kept so the table is complete when they come.
    SystemUpdate,
    FullBackup,
    ServiceSettings,
    PowerControl,
    Network,
    Cluster,
    Gateways,
    ServiceRestart,
    DatabaseBackup,
    FirmwareRollout,
    Connector,
    CronJobs,
}

impl Area {
    pub const ALL: &'static [Area] = &[
        Area::Users,
        Area::Devices,
        Area::Workplaces,
        Area::Phonebook,
        Area::Accounts,
        Area::Session,
        Area::Mail,
        Area::CallRecords,
        Area::Voicemail,
        Area::VoicemailAudio,
        Area::Fax,
        Area::FaxDocument,
        Area::SystemUpdate,
        Area::FullBackup,
        Area::ServiceSettings,
        Area::PowerControl,
        Area::Network,
        Area::Cluster,
        Area::Gateways,
        Area::ServiceRestart,
        Area::DatabaseBackup,
        Area::FirmwareRollout,
        Area::Connector,
        Area::CronJobs,
    ];
}

/// Whether `path` (the request's, not the route's) is in the voicemail box of user `username`:
/// a user logged in with their own password reaches their own box whatever their role.
pub fn own_voicemail(area: Area, username: &str, path: &str) -> bool {
    let own = match area {
        Area::Voicemail | Area::VoicemailAudio => "/voicemail/",
        Area::Fax | Area::FaxDocument => "/fax/inbox",
        _ => return false,
    };
    path.strip_prefix("/api/v1/users/")
        .and_then(|rest| rest.strip_prefix(username))
        .is_some_and(|rest| rest.starts_with(own))
}

/// Whether `role` may use routes of `area`.
pub fn allows(role: Role, area: Area) -> bool {
    match role {
        Role::SystemAdmin => true,
        // "wie der System-Administrator jedoch ohne" update, full backup, service settings,
        // shutdown/restart, network, cluster.
        Role::Admin => !matches!(
            area,
            Area::SystemUpdate
                | Area::FullBackup
                | Area::ServiceSettings
                | Area::PowerControl
                | Area::Network
                | Area::Cluster
                | Area::VoicemailAudio
                | Area::FaxDocument
        ),
        // "wie der Administrator jedoch ohne" gateways, service restarts, database backup,
        // firmware rollout, connector, cron jobs.
        Role::TelephonyAdmin => {
            allows(Role::Admin, area)
                && !matches!(
                    area,
                    Area::Gateways
                        | Area::Mail
                        | Area::ServiceRestart
                        | Area::DatabaseBackup
                        | Area::FirmwareRollout
                        | Area::Connector
                        | Area::CronJobs
                )
        }
        Role::PhonebookAdmin => matches!(area, Area::Phonebook | Area::Session),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_is_a_subset_of_the_one_above() {
        for &area in Area::ALL {
            assert!(allows(Role::SystemAdmin, area));
            if allows(Role::PhonebookAdmin, area) {
                assert!(allows(Role::TelephonyAdmin, area), "{area:?}");
            }
            if allows(Role::TelephonyAdmin, area) {
                assert!(allows(Role::Admin, area), "{area:?}");
            }
        }
    }

    #[test]
    fn the_seed_exclusions_hold() {
        assert!(!allows(Role::Admin, Area::SystemUpdate));
        assert!(!allows(Role::Admin, Area::Cluster));
        assert!(allows(Role::Admin, Area::Gateways));
        assert!(!allows(Role::TelephonyAdmin, Area::Gateways));
        assert!(!allows(Role::TelephonyAdmin, Area::FirmwareRollout));
        assert!(allows(Role::TelephonyAdmin, Area::Users));
        assert!(allows(Role::PhonebookAdmin, Area::Phonebook));
        assert!(!allows(Role::PhonebookAdmin, Area::Users));
        assert!(allows(Role::Admin, Area::Mail));
        assert!(!allows(Role::TelephonyAdmin, Area::Mail));
        assert!(allows(Role::TelephonyAdmin, Area::CallRecords));
        assert!(!allows(Role::PhonebookAdmin, Area::CallRecords));
        assert!(allows(Role::TelephonyAdmin, Area::Voicemail));
        assert!(allows(Role::SystemAdmin, Area::VoicemailAudio));
        assert!(!allows(Role::Admin, Area::VoicemailAudio));
        assert!(!allows(Role::TelephonyAdmin, Area::VoicemailAudio));
        assert!(!allows(Role::PhonebookAdmin, Area::Voicemail));
        assert!(allows(Role::TelephonyAdmin, Area::Fax));
        assert!(allows(Role::SystemAdmin, Area::FaxDocument));
        assert!(!allows(Role::Admin, Area::FaxDocument));
        assert!(!allows(Role::TelephonyAdmin, Area::FaxDocument));
        assert!(!allows(Role::PhonebookAdmin, Area::Fax));
    }

    #[test]
    fn the_own_box_is_matched_by_the_whole_username() {
        let path = "/api/v1/users/anna/voicemail/messages/3/audio";
        assert!(own_voicemail(Area::VoicemailAudio, "anna", path));
        assert!(!own_voicemail(Area::VoicemailAudio, "ann", path));
        assert!(!own_voicemail(
            Area::Users,
            "anna",
            "/api/v1/users/anna/voicemail/x"
        ));
        assert!(!own_voicemail(
            Area::Voicemail,
            "anna",
            "/api/v1/users/anna/fax"
        ));
        let doc = "/api/v1/users/anna/fax/inbox/3/document";
        assert!(own_voicemail(Area::FaxDocument, "anna", doc));
        assert!(!own_voicemail(Area::FaxDocument, "ann", doc));
        assert!(!own_voicemail(
            Area::Fax,
            "anna",
            "/api/v1/users/anna/voicemail/x"
        ));
    }
}
