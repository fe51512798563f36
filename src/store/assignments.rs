//! Assigning devices to users and workplaces, with the FollowMe of each assignment.

use super::devices::{self, Owner};
use super::{Device, DeviceKind, FollowMe, Result, Store, StoreError, followme};

/// An owner as the API names it.
#[derive(Debug, Clone, Copy)]
pub enum OwnerRef<'a> {
    User(&'a str),
    Workplace(&'a str),
}

impl Store {
    async fn resolve(
        &self,
        conn: &mut sqlx::SqliteConnection,
        owner: OwnerRef<'_>,
    ) -> Result<Owner> {
        // The owner is in the path: an unknown one is a 404.
        match owner {
            OwnerRef::User(name) => Ok(Owner::User(super::users::id_of(conn, "user", name).await?)),
            OwnerRef::Workplace(name) => Ok(Owner::Workplace(
                super::workplaces::id_of(conn, "workplace", name).await?,
            )),
        }
    }

    /// The devices assigned to a user or workplace, with their FollowMe.
    pub async fn owner_devices(&self, owner: OwnerRef<'_>) -> Result<Vec<Device>> {
        let mut conn = self.read.acquire().await?;
        match self.resolve(&mut conn, owner).await? {
            Owner::User(id) => devices::select(&mut conn, "d.owner_user_id = $1", id).await,
            Owner::Workplace(id) => {
                devices::select(&mut conn, "d.owner_workplace_id = $1", id).await
            }
            Owner::Nobody => Ok(Vec::new()),
        }
    }

    /// Assigns a device (taking it from any previous owner) and sets its FollowMe, or keeps
    /// the current FollowMe when none is given and the device already belongs to `owner`.
    pub async fn assign_device(
        &self,
        owner: OwnerRef<'_>,
        id: i64,
        fm: Option<FollowMe>,
    ) -> Result<Device> {
        if let Some(fm) = &fm {
            followme::validate(fm)?;
        }
        let mut tx = self.write.begin().await?;
        let owner = self.resolve(&mut tx, owner).await?;
        let device = devices::one(&mut tx, id).await?;
        if device.kind == DeviceKind::Fax {
            return Err(StoreError::invalid(
                "id",
                "a fax device belongs to its user's fax settings",
            ));
        }
        if matches!(owner, Owner::Workplace(_))
            && !matches!(device.kind, DeviceKind::IpPhone | DeviceKind::Softphone)
        {
            return Err(StoreError::invalid(
                "id",
                "only ip-phones and softphones can belong to a workplace",
            ));
        }
        if devices::owner_of(&mut tx, id).await? != owner {
            devices::assign(&mut tx, id, owner, self.window_hours).await?;
        }
        if let Some(fm) = fm {
            followme::replace(&mut tx, id, &fm).await?;
        }
        let device = devices::one(&mut tx, id).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Takes a device away from `owner`; it stays in the device list, unassigned.
    pub async fn unassign_device(&self, owner: OwnerRef<'_>, id: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let owner = self.resolve(&mut tx, owner).await?;
        let device = devices::one(&mut tx, id).await?;
        if devices::owner_of(&mut tx, id).await? != owner {
            return Err(StoreError::not_found(
                "device",
                format!("{id} of this owner"),
            ));
        }
        if device.kind == DeviceKind::Fax {
            return Err(StoreError::invalid(
                "id",
                "a fax device is removed with its user's fax settings",
            ));
        }
        devices::assign(&mut tx, id, Owner::Nobody, self.window_hours).await?;
        tx.commit().await?;
        Ok(())
    }
}
