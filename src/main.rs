//! `pulumi-resource-zerotrust`: binds 127.0.0.1:0, prints the port, serves the engine.

use std::io::Write;
use std::sync::Arc;
use zerotrust::modules;
use zerotrust::server::service::engine_address;

/// How long in-flight calls may finish after SIGINT.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(3);

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    if std::env::args().nth(1).as_deref() == Some("--schema") {
        let provider = modules::provider();
        println!("{}", provider.schema_text());
        return std::process::ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pulumi-resource-zerotrust: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulumi-resource-zerotrust: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let provider = Arc::new(modules::provider());
    if let Some(address) = engine_address(&args) {
        provider.connect_engine(&address);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    {
        // The port line is the only thing ever written to stdout.
        let mut out = std::io::stdout().lock();
        writeln!(out, "{port}")?;
        out.flush()?;
    }
    let (interrupted_tx, interrupted_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("SIGINT received; draining");
        let _ = interrupted_tx.send(());
    };
    // The engine sends SIGKILL 5 s after SIGINT; a client that keeps its connection open must not
    // hold us past that, so in-flight calls get a bounded drain.
    let drain_deadline = async {
        if interrupted_rx.await.is_ok() {
            tokio::time::sleep(DRAIN).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = zerotrust::server::service::serve(provider, listener, shutdown) => served?,
        () = drain_deadline => tracing::warn!("connections still open {DRAIN:?} after SIGINT; exiting"),
    }
    Ok(())
}
