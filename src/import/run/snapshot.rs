//! What the batch sees at its start, by key: every row is compared with this, so an unchanged
//! row costs no query.

use std::collections::HashMap;

use crate::store::{
    ActionTemplate, Batch, Device, PhonebookEntry, Result, SpeedDial, User, Workplace,
};

#[derive(Debug, Default)]
pub(super) struct Snapshot {
    pub users: HashMap<String, User>,
    /// IP phones by their MAC (12 lowercase hex digits).
    pub phones: HashMap<String, Device>,
    pub workplaces: HashMap<String, Workplace>,
    pub phonebook: Vec<PhonebookEntry>,
    pub speed_dials: HashMap<String, SpeedDial>,
    pub templates: HashMap<String, ActionTemplate>,
}

impl Snapshot {
    pub async fn load(batch: &mut Batch) -> Result<Snapshot> {
        let users = batch.users().await?;
        let devices = batch.devices().await?;
        let workplaces = batch.workplaces().await?;
        Ok(Snapshot {
            users: users.into_iter().map(|u| (u.username.clone(), u)).collect(),
            phones: devices
                .into_iter()
                .filter_map(|d| Some((d.mac.clone()?, d)))
                .collect(),
            workplaces: workplaces
                .into_iter()
                .map(|w| (w.name.clone(), w))
                .collect(),
            phonebook: batch.phonebook().await?,
            speed_dials: batch
                .speed_dials()
                .await?
                .into_iter()
                .map(|d| (d.code.clone(), d))
                .collect(),
            templates: batch
                .action_templates()
                .await?
                .into_iter()
                .map(|t| (t.name.clone(), t))
                .collect(),
        })
    }
}
