//! The HTTP/1 server loop: connection limits and timeouts, load shedding, and a shutdown that
//! ends within a deadline.
//!
//! - a client has `header_timeout` to send a request's head, on a new connection and between
//!   requests on a kept-alive one (so that is also the idle keep-alive timeout);
//! - a body must arrive within `body_timeout`, and a whole request is answered (or abandoned with
//!   a 503) within `request_timeout`;
//! - at most `max_connections` are open (more wait in the kernel's backlog) and at most
//!   `max_requests` are handled at once; past that a request is refused at once with a 503
//!   instead of queueing;
//! - on shutdown the listener closes, idle connections close, in-flight requests get
//!   `shutdown_deadline` to finish, and then are abandoned;
//! - a connection ends with a lingering close (see [`Lingering`]), so a client still sending a
//!   body we refused reads our answer instead of a reset.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, Request};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use axum::{BoxError, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Service, ServiceBuilder};

/// Connection and request bounds (`docs/limits.md`).
#[derive(Debug, Clone, Copy)]
pub struct NetSettings {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub max_requests: usize,
    pub shutdown_deadline: Duration,
}

impl Default for NetSettings {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_requests: 512,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

/// Wraps the router with the request-level bounds: body timeout, whole-request timeout and
/// load shedding, each failure in the envelope of the vendor whose path was called.
pub fn bounded(router: Router, net: NetSettings) -> Router {
    let timeout = net.request_timeout;
    router
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| whole_request(req, next, timeout),
        ))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                .concurrency_limit(net.max_requests.max(1)),
        )
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            net.body_timeout,
        ))
}

async fn whole_request(req: Request, next: Next, limit: Duration) -> Response {
    let path = req.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(%path, "request abandoned after the request timeout");
            crm_dialects::guard::throttled(
                &path,
                1,
                true,
                &format!(
                    "the request took longer than {} s and was abandoned",
                    limit.as_secs()
                ),
            )
        }
    }
}

async fn overloaded(uri: Uri, err: BoxError) -> Response {
    if err.is::<tower::load_shed::error::Overloaded>() {
        crm_dialects::guard::throttled(
            uri.path(),
            1,
            true,
            "the server is at capacity; try again shortly",
        )
    } else {
        tracing::error!(error = %err, "request failed in a middleware");
        crm_dialects::guard::reject(
            uri.path(),
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "internal server error",
        )
    }
}

/// Accepts connections until `shutdown` resolves, then drains them within the deadline.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    net: NetSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(net.header_timeout)
        .max_buf_size(64 * 1024);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(net.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = slots.clone().acquire_owned() => p?,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a reset before accept: wait a moment, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move {
                let r: Result<Response, Infallible> =
                    router.call(req.map(axum::body::Body::new)).await;
                r
            }
        });
        let io = TokioIo::new(Lingering::new(stream, permit));
        let conn = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(net.shutdown_deadline) => {
            tracing::warn!(
                deadline_secs = net.shutdown_deadline.as_secs(),
                "shutdown deadline reached; abandoning the requests still open"
            );
        }
    }
    Ok(())
}

/// How long, and for how many bytes, a closing connection keeps reading what its client still
/// sends (`docs/limits.md`).
pub const LINGER: Duration = Duration::from_secs(2);
pub const LINGER_BYTES: usize = 8 * 1024 * 1024;

/// A connection's socket, closed the way web servers close: when hyper is done with it, the
/// write side is shut and whatever the client still sends is read and dropped, for at most
/// [`LINGER`] and [`LINGER_BYTES`], before the socket closes. Closing at once with unread bytes
/// in the receive queue makes the kernel send a reset, and a reset can destroy our answer (a 413
/// for an oversized upload, say) in the client's receive buffer before the client reads it.
/// The connection's slot is held until the socket is closed.
struct Lingering {
    stream: Option<TcpStream>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Lingering {
    fn new(stream: TcpStream, permit: OwnedSemaphorePermit) -> Self {
        Self {
            stream: Some(stream),
            permit: Some(permit),
        }
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(
            self.stream
                .as_mut()
                .expect("the socket is there until drop"),
        )
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stream().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stream().poll_shutdown(cx)
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let (Some(mut stream), permit) = (self.stream.take(), self.permit.take()) else {
            return;
        };
        // Without a runtime (the process is ending) the socket just closes.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let _ = stream.shutdown().await;
            let mut buf = [0u8; 16 * 1024];
            let mut left = LINGER_BYTES;
            let _ = tokio::time::timeout(LINGER, async {
                while left > 0 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            })
            .await;
            drop(stream);
            drop(permit);
        });
    }
}

/// Raises the open-file limit to its hard maximum, so that many slow clients cannot use up the
/// descriptors before the header timeout closes them.
pub fn raise_fd_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
}
