//! A person's hot write (a chat message) need not read their access before it runs: the
//! replica remembers what their session was last granted in the account, and the write
//! requires in its own statement that the grant still holds (ADR 33). The memory is a hint,
//! never the authority: a write that finds the grant gone stores nothing, and the request is
//! then authorised from the database like any other ([`super::RecalledScope::confirm`]).

use time::OffsetDateTime;
use uuid::Uuid;

use super::Role;
use crate::platform::{clock, kept::Kept};

/// What a session held in an account when last authorised: the person, their role and the
/// account's revision (which moves with every change to its plan, billing or settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub revision: i64,
}

/// This replica's grants by account and session, each kept until its session's absolute
/// expiry.
#[derive(Default)]
pub struct Grants(Kept<OffsetDateTime, Grant, (Uuid, Uuid)>);

impl Grants {
    pub(super) fn recall(
        &self,
        account_id: Uuid,
        session_id: Uuid,
        user_id: Uuid,
    ) -> Option<Grant> {
        let now = clock::now();
        let grant = self
            .0
            .get((account_id, session_id), |expires_at| expires_at > now)?;
        (grant.user_id == user_id).then_some(*grant)
    }

    /// Super admins' grants are never kept: theirs is the one role a write's check cannot
    /// tell from a membership.
    pub(super) fn remember(&self, account_id: Uuid, grant: Grant, expires_at: OffsetDateTime) {
        if grant.role != Role::SuperAdmin {
            self.0
                .put((account_id, grant.session_id), expires_at, grant);
        }
    }

    pub(super) fn forget(&self, account_id: Uuid, session_id: Uuid) {
        self.0.forget((account_id, session_id));
    }
}

/// Where a statement binds what [`still_holds`] compares: its parameters (`$n`).
pub struct GrantParams {
    pub account: &'static str,
    pub user: &'static str,
    pub now: &'static str,
    pub session: &'static str,
    pub role: &'static str,
    pub revision: &'static str,
}

/// The SQL condition (both engines) that a [`Grant`] still holds: its session is neither
/// revoked nor past its absolute expiry and may act in the account, the person is an active
/// member with the same role (not a super admin acting as such), and the account is active
/// at the same revision. The same facts [`super::member_role`] reads.
pub fn still_holds(p: &GrantParams) -> String {
    let GrantParams {
        account,
        user,
        now,
        session,
        role,
        revision,
    } = p;
    format!(
        "EXISTS (SELECT 1 FROM sessions s
            JOIN users u ON u.id = s.user_id
            JOIN accounts a ON a.id = {account} AND a.status = 'active' AND a.revision = {revision}
            JOIN account_users m ON m.account_id = a.id AND m.user_id = s.user_id AND m.active
                AND m.role = {role}
            WHERE s.id = {session} AND s.user_id = {user} AND s.revoked_at IS NULL
              AND s.absolute_expires_at > {now}
              AND (s.account_id IS NULL OR s.account_id = {account})
              AND (s.account_id IS NOT NULL OR NOT u.is_super_admin))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(user_id: Uuid, role: Role) -> Grant {
        Grant {
            session_id: Uuid::now_v7(),
            user_id,
            role,
            revision: 3,
        }
    }

    #[test]
    fn a_grant_is_recalled_for_its_own_person_until_its_session_expires() {
        let grants = Grants::default();
        let (account, user) = (Uuid::now_v7(), Uuid::now_v7());
        let kept = grant(user, Role::Agent);
        let now = clock::now();
        grants.remember(account, kept, now + time::Duration::hours(1));
        assert_eq!(grants.recall(account, kept.session_id, user), Some(kept));
        assert_eq!(
            grants.recall(account, kept.session_id, Uuid::now_v7()),
            None
        );
        assert_eq!(grants.recall(Uuid::now_v7(), kept.session_id, user), None);
        grants.forget(account, kept.session_id);
        assert_eq!(grants.recall(account, kept.session_id, user), None);

        let expired = grant(user, Role::Agent);
        grants.remember(account, expired, now);
        assert_eq!(grants.recall(account, expired.session_id, user), None);
    }

    #[test]
    fn a_super_admins_grant_is_never_kept() {
        let grants = Grants::default();
        let (account, user) = (Uuid::now_v7(), Uuid::now_v7());
        let kept = grant(user, Role::SuperAdmin);
        grants.remember(account, kept, clock::now() + time::Duration::hours(1));
        assert_eq!(grants.recall(account, kept.session_id, user), None);
    }
}
