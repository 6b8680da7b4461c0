//! Listening and connection handling of a simulated PODM, and the faults that live below the
//! Redfish layer: latency, `500`/`503`, hanging requests, reset connections, malformed and huge
//! bodies.
//!
//! Each PODM has one listener task on the caller's runtime and one task per connection
//! (HTTP/1.1 or HTTP/2, plain or TLS). A request that must "reset" or "hang" asks its
//! connection task to drop the connection; a reset sets `SO_LINGER` to zero first so the peer
//! sees a TCP RST rather than an orderly close.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Behavior;
use crate::error::SimError;
use crate::handle::Pod;
use crate::render;
use crate::reply::{self, Reply};
use crate::routes;
use crate::tls::TlsMaterial;

/// Largest request body read; larger ones get `413`.
const MAX_BODY: usize = 1 << 20;
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds with `SO_REUSEADDR`, so a restarted PODM gets its port back while old connections of
/// the previous run linger in `TIME_WAIT`.
pub(crate) fn bind(addr: SocketAddr) -> Result<TcpListener, SimError> {
    let fail = |source| SimError::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(fail)?;
    socket.set_reuseaddr(true).map_err(fail)?;
    socket.bind(addr).map_err(fail)?;
    socket.listen(1024).map_err(fail)
}

/// One run of a PODM between start and stop.
pub(crate) struct Running {
    stop: CancellationToken,
    connections: TaskTracker,
    accept: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, drops every connection and waits until all are gone.
    pub(crate) async fn shut_down(self) {
        self.stop.cancel();
        if let Err(e) = self.accept.await {
            tracing::warn!("PODM listener task ended abnormally: {e}");
        }
        self.connections.close();
        self.connections.wait().await;
    }

    /// Stops without waiting (for `Drop`).
    pub(crate) fn abandon(self) {
        self.stop.cancel();
    }
}

pub(crate) fn run(listener: TcpListener, pod: Arc<Pod>, tls: Option<Arc<TlsMaterial>>) -> Running {
    let stop = CancellationToken::new();
    let connections = TaskTracker::new();
    let acceptor = tls.map(|t| TlsAcceptor::from(t.server_config.clone()));
    let accept = tokio::spawn(accept_loop(
        listener,
        pod,
        acceptor,
        stop.clone(),
        connections.clone(),
    ));
    Running {
        stop,
        connections,
        accept,
    }
}

async fn accept_loop(
    listener: TcpListener,
    pod: Arc<Pod>,
    tls: Option<TlsAcceptor>,
    stop: CancellationToken,
    connections: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, _peer)) => {
                // Small request/response exchanges: do not wait for Nagle.
                let _ = tcp.set_nodelay(true);
                connections.spawn(serve_connection(
                    tcp,
                    pod.clone(),
                    tls.clone(),
                    stop.clone(),
                ));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(name = %pod.name, "accept failed: {e}");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }
}

/// Lets a request end its own connection without an answer.
pub(crate) struct ConnectionControl {
    reset: Arc<AtomicBool>,
    close: Notify,
}

impl ConnectionControl {
    /// Drops the connection with a TCP reset.
    fn reset(&self) {
        self.reset.store(true, Ordering::Relaxed);
        self.close.notify_one();
    }

    /// Drops the connection with an orderly close.
    fn close(&self) {
        self.close.notify_one();
    }
}

/// A TCP stream that can be told to end with RST when dropped.
struct ResettableStream {
    tcp: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed)
            && let Err(e) = self.tcp.set_zero_linger()
        {
            tracing::debug!("cannot arm the connection reset: {e}");
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

async fn serve_connection(
    tcp: TcpStream,
    pod: Arc<Pod>,
    tls: Option<TlsAcceptor>,
    stop: CancellationToken,
) {
    let reset = Arc::new(AtomicBool::new(false));
    let control = Arc::new(ConnectionControl {
        reset: reset.clone(),
        close: Notify::new(),
    });
    let stream = ResettableStream { tcp, reset };
    match tls {
        None => drive(TokioIo::new(stream), pod, control, stop).await,
        Some(acceptor) => {
            let handshake = tokio::select! {
                () = stop.cancelled() => return,
                r = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => r,
            };
            match handshake {
                Ok(Ok(tls_stream)) => drive(TokioIo::new(tls_stream), pod, control, stop).await,
                Ok(Err(e)) => tracing::debug!(name = %pod.name, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(name = %pod.name, "TLS handshake timed out"),
            }
        }
    }
}

async fn drive<I>(
    io: TokioIo<I>,
    pod: Arc<Pod>,
    control: Arc<ConnectionControl>,
    stop: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service_control = control.clone();
    let service = service_fn(move |req| {
        let pod = pod.clone();
        let control = service_control.clone();
        async move { Ok::<_, Infallible>(serve_request(pod, control, req).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(io, service);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::trace!("connection ended: {e}");
            }
        }
        () = stop.cancelled() => {}
        () = control.close.notified() => {}
    }
}

/// `true` with probability `rate`.
fn roll(rate: f64) -> bool {
    rate >= 1.0 || (rate > 0.0 && rand::random::<f64>() < rate)
}

async fn serve_request(
    pod: Arc<Pod>,
    control: Arc<ConnectionControl>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let route = routes::resolve(&pod, path);
    pod.counters.count_request(&parts.method, route.template());
    let behavior = pod.behavior();
    let faulty = behavior.faults_apply_to(path);
    if faulty {
        if !behavior.latency.is_zero() {
            tokio::time::sleep(behavior.latency).await;
        }
        if roll(behavior.reset_rate) {
            control.reset();
            return std::future::pending().await;
        }
        if roll(behavior.hang_rate) {
            let mut changes = pod.behavior_changes();
            // Err only when the PODM is gone; either way the connection goes.
            let _ = changes.changed().await;
            control.close();
            return std::future::pending().await;
        }
        if roll(behavior.unavailable_rate) {
            let secs = behavior.retry_after.as_secs_f64().ceil() as u64;
            return finish(reply::unavailable(secs), &behavior, false, false);
        }
        if roll(behavior.error_rate) {
            return finish(
                reply::internal("simulated server error"),
                &behavior,
                false,
                false,
            );
        }
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            let too_large = reply::redfish_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Base.1.0.GeneralError",
                "The request body is too large.",
                Vec::new(),
            );
            return finish(too_large, &behavior, false, false);
        }
        Err(e) => {
            tracing::debug!("cannot read request body: {e}");
            return finish(
                reply::malformed_json("the request body could not be read"),
                &behavior,
                false,
                false,
            );
        }
    };
    let reply = routes::dispatch(&pod, route, &parts, &body);
    if faulty && !behavior.answer_delay.is_zero() {
        tokio::time::sleep(behavior.answer_delay).await;
    }
    let is_get = parts.method == Method::GET;
    finish(reply, &behavior, faulty, is_get)
}

/// Serializes a reply, applying the dialect and, for faulty `GET`s, the body faults.
fn finish(reply: Reply, behavior: &Behavior, faulty: bool, is_get: bool) -> Response<Full<Bytes>> {
    let status = reply.status;
    let mut body = match &reply.body {
        Some(v) => serde_json::to_vec(v).unwrap_or_default(),
        None => Vec::new(),
    };
    if behavior.rsd1_spellings && !body.is_empty() {
        body = render::rsd1_spellings(&body);
    }
    if faulty && is_get && status == StatusCode::OK {
        if behavior.huge_response_bytes > 0 {
            body = render::pad(body, behavior.huge_response_bytes);
        }
        if roll(behavior.malformed_json_rate) {
            body.truncate(body.len() / 2);
        }
    }
    let has_body = reply.body.is_some();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if has_body {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    headers.insert("OData-Version", HeaderValue::from_static("4.0"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    for (name, value) in reply.headers {
        headers.insert(name, value);
    }
    response
}
