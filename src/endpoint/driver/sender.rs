//! Sends the endpoint's UDP datagrams on a thread (and current-thread runtime) of its own, so
//! the `sendmsg` calls (an eighth of the endpoint thread's time under bench/sip.sh) leave the
//! one thread that owns the [`super::Endpoint`]. Batches keep their order, and so does each
//! batch's content: a phone gets 180 before 200 as the endpoint produced them.
//!
//! The channel is short and the endpoint waits when it is full; this thread waits for nothing
//! but the socket, so that wait always ends. It ends when the endpoint's task drops its end,
//! after sending what was queued.

use tokio::sync::mpsc;

use crate::endpoint::Peer;
use crate::net::Udp;
use crate::sip::transaction::Transmit;

/// Batches waiting to be sent at most.
const QUEUE: usize = 8;

/// Starts the sending thread on `socket` (a handle from [`Udp::try_clone_std`]); it ends
/// when the returned sender is dropped.
pub(super) fn spawn(
    socket: std::net::UdpSocket,
) -> std::io::Result<mpsc::Sender<Vec<Transmit<Peer>>>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    super::own_thread(
        "sip-send",
        move || run(socket, rx),
        |outcome| {
            if let Err(e) = outcome.and_then(|r| r) {
                tracing::error!("sip: the sending thread: {e}");
            }
        },
    )?;
    Ok(tx)
}

async fn run(
    socket: std::net::UdpSocket,
    mut rx: mpsc::Receiver<Vec<Transmit<Peer>>>,
) -> std::io::Result<()> {
    let udp = Udp::from_std(socket)?;
    while let Some(batch) = rx.recv().await {
        for t in batch {
            let from = Some(t.to.local.ip());
            if let Err(e) = udp.send(&t.bytes, t.to.addr, from).await {
                tracing::debug!("sip: sending to {}: {e}", t.to.addr);
            }
        }
    }
    Ok(())
}
