//! The real binary, as the engine starts it: the port line, tolerated flags, attach mode, SIGINT.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zerotrust::protocol::pulumirpc as pb;
use zerotrust::protocol::pulumirpc::resource_provider_client::ResourceProviderClient;

fn spawn(args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulumi-resource-zerotrust"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    let stdout = child.stdout.as_mut().expect("stdout piped");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("port line");
    assert!(
        line.ends_with('\n'),
        "port line ends with a newline: {line:?}"
    );
    let port: u16 = line.trim().parse().expect("the port line is only a number");
    (child, port)
}

fn interrupt_and_wait(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "provider did not exit after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_flags_are_tolerated_and_sigint_exits_cleanly() {
    let (mut child, port) = spawn(&[
        "--logtostderr",
        "-v=9",
        "--tracing",
        "127.0.0.1:9",
        "127.0.0.1:1",
    ]);
    let mut client = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    let info = client.get_plugin_info(()).await.unwrap().into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    client.cancel(()).await.unwrap();
    drop(client);
    let mut rest = String::new();
    let mut stdout = child.stdout.take().expect("stdout");
    let status = interrupt_and_wait(child);
    stdout.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(
        rest.is_empty(),
        "nothing but the port line on stdout: {rest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_arguments_mean_attach_mode() {
    let (child, port) = spawn(&[]);
    let mut client = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    client
        .handshake(pb::ProviderHandshakeRequest::default())
        .await
        .unwrap();
    client
        .attach(pb::PluginAttach {
            address: "127.0.0.1:1".into(),
        })
        .await
        .expect("Attach must succeed: an error is fatal to the engine");
    client.get_plugin_info(()).await.unwrap();
    drop(client);
    assert!(interrupt_and_wait(child).success());
}
