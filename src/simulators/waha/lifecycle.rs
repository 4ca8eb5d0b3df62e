//! How a session moves between statuses, as WAHA's NOWEB engine moves it. Every change is
//! recorded in the session and fires `session.status`. The operations behind API calls
//! return the SessionDTO WAHA answers with: a start answers while the session is STARTING,
//! before the engine reaches its QR (or WORKING, when the login on file still works).

use serde_json::Value;

use super::{
    Shared, events,
    session::{Me, SessionStatus, WahaSession},
};

/// QRs WAHA shows before it gives up and fails the session (60 s, then 20 s each).
const MAX_QRS: u32 = 6;

fn change(shared: &Shared, session: &mut WahaSession, status: SessionStatus) {
    session.record(status, crate::simulators::now_millis());
    events::session_status(shared, session);
}

/// Starts a stopped or failed session; a running one is left as it is.
pub(super) fn start(shared: &Shared, session: &mut WahaSession) -> Value {
    if session.status.is_running() {
        return session.dto();
    }
    change(shared, session, SessionStatus::Starting);
    let answer = session.dto();
    if session.logged_in {
        change(shared, session, SessionStatus::Working);
    } else {
        session.me = None;
        session.qr_count = 0;
        session.show_qr();
        change(shared, session, SessionStatus::ScanQrCode);
    }
    answer
}

/// Stops the session, keeping its login; stopping a stopped one does nothing.
pub(super) fn stop(shared: &Shared, session: &mut WahaSession) -> Value {
    if session.status != SessionStatus::Stopped {
        session.qr = None;
        session.pairing_code = None;
        change(shared, session, SessionStatus::Stopped);
    }
    session.dto()
}

pub(super) fn restart(shared: &Shared, session: &mut WahaSession) -> Value {
    stop(shared, session);
    start(shared, session)
}

/// Drops the login and keeps the config; a running session starts again, to a new QR.
pub(super) fn logout(shared: &Shared, session: &mut WahaSession) -> Value {
    let was_running = session.status.is_running();
    stop(shared, session);
    session.logged_in = false;
    session.me = None;
    if was_running {
        start(shared, session)
    } else {
        session.dto()
    }
}

/// The phone scans the QR (or types the pairing code) as `phone`.
pub(super) fn scanned(
    shared: &Shared,
    session: &mut WahaSession,
    phone: &str,
) -> Result<(), &'static str> {
    if session.status != SessionStatus::ScanQrCode {
        return Err("the session is not waiting for a scan");
    }
    session.me = Some(Me {
        id: format!("{phone}@c.us"),
        push_name: "Demo phone".to_string(),
    });
    session.logged_in = true;
    session.qr = None;
    session.pairing_code = None;
    change(shared, session, SessionStatus::Working);
    Ok(())
}

/// The phone removes the linked device: the engine sees "logged out" and fails the
/// session; the login on file is dead, so the next start shows a QR.
pub(super) fn logged_out_by_phone(shared: &Shared, session: &mut WahaSession) {
    if session.status == SessionStatus::Working {
        session.logged_in = false;
        change(shared, session, SessionStatus::Failed);
    }
}

/// The QR on show expires: the next one is shown, or after the last one the session fails.
pub(super) fn next_qr(shared: &Shared, session: &mut WahaSession) {
    if session.status != SessionStatus::ScanQrCode {
        return;
    }
    if session.qr_count >= MAX_QRS {
        session.qr = None;
        change(shared, session, SessionStatus::Failed);
    } else {
        session.show_qr();
        change(shared, session, SessionStatus::ScanQrCode);
    }
}
