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
    }
}
