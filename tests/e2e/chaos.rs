//! A test-only chaos proxy: a TCP proxy between Valence and a simulated PODM whose behaviour is
//! switched while it runs (pass, delay, blackhole, cut, drop), so the fault tests can break the
//! network path itself rather than only the PODM's answers.
//!
//! A PODM is registered at [`ChaosProxy::base_url`]; every connection Valence opens to it goes
//! through the proxy. [`ChaosProxy::open_connections`] counts the connections open right now,
//! which is what the leak test watches from the PODM's side.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways.
    Pass,
    /// Forward both ways, waiting this long before each chunk.
    Delay(Duration),
    /// Accept and read, never forward nor answer: a PODM that hangs at the TCP level.
    Blackhole,
    /// Close every open connection (both sides) and every new one at once.
    Cut,
    /// Reset new connections as soon as they are accepted; open ones carry on.
    Drop,
}

/// A running proxy on the runtime it was started on; stopped when dropped.
pub struct ChaosProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    open: Arc<AtomicUsize>,
    accepted: Arc<AtomicU64>,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.listener.abort();
        // Ends every connection task too: they all watch the mode.
        self.mode.send_replace(Mode::Cut);
    }
}

/// Decrements the open-connection count when a connection task ends, however it ends.
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ChaosProxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream`.
    pub fn start(runtime: &tokio::runtime::Runtime, upstream: SocketAddr) -> ChaosProxy {
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Pass);
        let open = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let task = runtime.spawn(accept_loop(
            listener,
            upstream,
            mode.clone(),
            open.clone(),
            accepted.clone(),
        ));
        ChaosProxy {
            addr,
            mode,
            open,
            accepted,
            listener: task,
        }
    }

    /// `http://127.0.0.1:PORT`: the URL to register the PODM with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// Client connections open now (forwarded or blackholed).
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Connections accepted since the start.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    mode: watch::Sender<Mode>,
    open: Arc<AtomicUsize>,
    accepted: Arc<AtomicU64>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        accepted.fetch_add(1, Ordering::SeqCst);
        match *mode.borrow() {
            Mode::Cut => continue,
            Mode::Drop => {
                // SO_LINGER 0: the peer sees a reset, not an orderly close.
                let _ = client.set_zero_linger();
                continue;
            }
            Mode::Pass | Mode::Delay(_) | Mode::Blackhole => {}
        }
        open.fetch_add(1, Ordering::SeqCst);
        let guard = OpenGuard(open.clone());
        tokio::spawn(serve(client, upstream, mode.subscribe(), guard));
    }
}

async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Mode>,
    _guard: OpenGuard,
) {
    let _ = client.set_nodelay(true);
    if *mode.borrow_and_update() == Mode::Blackhole {
        return blackhole(client, mode).await;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // Either direction ending (a close, an error, a cut) ends the connection on both sides.
    tokio::select! {
        () = pump(client_read, server_write, mode.clone()) => {}
        () = pump(server_read, client_write, mode) => {}
    }
}

/// Reads and discards until the peer closes or the proxy cuts.
async fn blackhole(mut client: TcpStream, mut mode: watch::Receiver<Mode>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Mode::Cut {
                    return;
                }
            }
            read = client.read(&mut buf) => {
                if matches!(read, Ok(0) | Err(_)) {
                    return;
                }
            }
        }
    }
}

/// Copies one direction chunk by chunk, applying the mode current at each chunk.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Mode::Cut {
                    return;
                }
                continue;
            }
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
        };
        let current = *mode.borrow();
        match current {
            Mode::Cut => return,
            // Swallowed: the other side waits for an answer that never comes.
            Mode::Blackhole => continue,
            Mode::Delay(pause) => tokio::time::sleep(pause).await,
            Mode::Pass | Mode::Drop => {}
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
