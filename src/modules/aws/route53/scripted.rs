//! Route 53 answers moto never gives, from a scripted fake of its REST-XML API: a change that
//! stays PENDING, HostedZoneAlreadyExists for a reused CallerReference, and InvalidChangeBatch
//! in the shape AWS really sends it. The fake speaks just enough HTTP/1.1 for the SDK
//! (`Content-Length` bodies, one request per connection).

use super::{PollDelays, change_records, rrset, wait_insync_with, zone};
use crate::modules::aws::client::{self, AwsClients, AwsSettings};
use crate::typed::{Secret, Value};
use aws_sdk_route53::types::{ChangeAction, ChangeInfo, ChangeStatus};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// A request the fake received: method, path with query, body.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    body: String,
}

type Reply = (u16, String);

#[derive(Default)]
struct Script {
    /// (method, path prefix) -> answers in order.
    replies: Vec<((String, String), VecDeque<Reply>)>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
struct Fake {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl Fake {
    async fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, body) = loop {
                        let n = stream.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let head = text[..end].to_string();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            if buf.len() >= end + 4 + len {
                                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]);
                                break (head, body.to_string());
                            }
                        }
                    };
                    let mut words = head.split_whitespace();
                    let method = words.next().unwrap_or_default().to_string();
                    let path = words.next().unwrap_or_default().to_string();
                    let (status, xml) = {
                        let mut s = shared.lock().unwrap();
                        s.seen.push(Seen {
                            method: method.clone(),
                            path: path.clone(),
                            body,
                        });
                        s.replies
                            .iter_mut()
                            .find(|((m, p), q)| {
                                *m == method && path.starts_with(p.as_str()) && !q.is_empty()
                            })
                            .and_then(|(_, q)| q.pop_front())
                            .unwrap_or((500, format!("not scripted: {method} {path}")))
                    };
                    let response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nLocation: {NS}\r\n\
                         x-amzn-RequestId: r\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                        xml.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Fake { url, script }
    }

    fn then(&self, method: &str, path: &str, status: u16, xml: String) -> &Self {
        let mut s = self.script.lock().unwrap();
        let key = (method.to_string(), format!("/2013-04-01/{path}"));
        match s.replies.iter_mut().find(|(k, _)| *k == key) {
            Some((_, q)) => q.push_back((status, xml)),
            None => s.replies.push((key, VecDeque::from([(status, xml)]))),
        }
        self
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }

    async fn clients(&self) -> AwsClients {
        client::build(&AwsSettings {
            region: Some("us-east-1".into()),
            access_key: Some(Secret::new("test".into())),
            secret_key: Some(Secret::new("test".into())),
            endpoints: Some(client::AwsEndpoints {
                acmpca: None,
                route53: Some(self.url.clone()),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
    }
}

fn error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    )
}

fn hosted_zone(id: &str, name: &str, reference: &str) -> String {
    format!(
        "<HostedZone><Id>/hostedzone/{id}</Id><Name>{name}.</Name>\
         <CallerReference>{reference}</CallerReference>\
         <Config><PrivateZone>false</PrivateZone></Config></HostedZone>"
    )
}

fn change_info(id: &str, status: &str) -> String {
    format!(
        "<ChangeInfo><Id>/change/{id}</Id><Status>{status}</Status>\
         <SubmittedAt>2026-11-25T00:00:00Z</SubmittedAt></ChangeInfo>"
    )
}

fn created(id: &str, name: &str, reference: &str) -> String {
    format!(
        "<CreateHostedZoneResponse xmlns=\"{NS}\">{}{}<DelegationSet><NameServers>\
         <NameServer>ns-1.example.net</NameServer></NameServers></DelegationSet>\
         </CreateHostedZoneResponse>",
        hosted_zone(id, name, reference),
        change_info("C1", "INSYNC")
    )
}

fn inputs(name: &str) -> zone::ZoneInputs {
    zone::ZoneInputs {
        name: Value::Known(name.into()),
        comment: Some(Value::Known("Managed by Pulumi".into())),
        delegation_set_id: None,
        force_destroy: None,
        tags: None,
        vpcs: None,
    }
}

fn ctx() -> crate::modules::Ctx {
    super::tests::ctx(Duration::from_secs(30)).1
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_adopts_the_zone_it_made() {
    let fake = Fake::start().await;
    let ctx = ctx();
    let reference = zone::caller_reference(ctx.urn(), &inputs("example.com"));
    fake.then(
        "POST",
        "hostedzone",
        400,
        error("HostedZoneAlreadyExists", "exists"),
    )
    .then(
        "GET",
        "hostedzonesbyname",
        200,
        format!(
            "<ListHostedZonesByNameResponse xmlns=\"{NS}\"><HostedZones>{}{}</HostedZones>\
                 <IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>\
                 </ListHostedZonesByNameResponse>",
            hosted_zone("ZOTHER", "example.com", "someone-else"),
            hosted_zone("ZOURS", "example.com", &reference),
        ),
    );
    let aws = fake.clients().await;
    let (id, change) = zone::create_zone(&ctx, &aws, &inputs("example.com"), "example.com")
        .await
        .unwrap();
    assert_eq!(id, "ZOURS");
    assert!(change.is_none());
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0]
            .body
            .contains(&format!("<CallerReference>{reference}</CallerReference>"))
    );
    assert!(seen[1].path.contains("dnsname=example.com"), "{seen:?}");
}

#[tokio::test]
async fn a_reference_used_by_a_deleted_zone_is_replaced_by_a_fresh_one() {
    let fake = Fake::start().await;
    let ctx = ctx();
    let reference = zone::caller_reference(ctx.urn(), &inputs("example.com"));
    fake.then(
        "POST",
        "hostedzone",
        400,
        error("HostedZoneAlreadyExists", "exists"),
    )
    .then(
        "GET",
        "hostedzonesbyname",
        200,
        format!(
            "<ListHostedZonesByNameResponse xmlns=\"{NS}\"><HostedZones>{}</HostedZones>\
                 <IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>\
                 </ListHostedZonesByNameResponse>",
            hosted_zone("ZNEXT", "example.org", "x"),
        ),
    )
    .then(
        "POST",
        "hostedzone",
        201,
        created("ZNEW", "example.com", "fresh"),
    );
    let aws = fake.clients().await;
    let (id, change) = zone::create_zone(&ctx, &aws, &inputs("example.com"), "example.com")
        .await
        .unwrap();
    assert_eq!(id, "ZNEW");
    assert_eq!(
        change.map(|c| c.status().clone()),
        Some(ChangeStatus::Insync)
    );
    let creates: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST")
        .collect();
    assert_eq!(creates.len(), 2);
    assert!(
        creates[1]
            .body
            .contains(&format!("<CallerReference>{reference}-"))
    );
}

#[tokio::test]
async fn a_pending_change_is_polled_with_get_change_until_insync() {
    let fake = Fake::start().await;
    for status in ["PENDING", "PENDING", "INSYNC"] {
        fake.then(
            "GET",
            "change/C7",
            200,
            format!(
                "<GetChangeResponse xmlns=\"{NS}\">{}</GetChangeResponse>",
                change_info("C7", status)
            ),
        );
    }
    let aws = fake.clients().await;
    let pending = ChangeInfo::builder()
        .id("/change/C7")
        .status(ChangeStatus::Pending)
        .submitted_at(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .unwrap();
    let delays = PollDelays {
        first: Duration::from_millis(5),
        max: Duration::from_millis(10),
    };
    let ctx = ctx();
    wait_insync_with(&ctx, &aws, Some(&pending), delays)
        .await
        .unwrap();
    let seen = fake.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen.iter()
            .all(|s| s.method == "GET" && s.path.ends_with("/change/C7"))
    );
}

#[tokio::test]
async fn invalid_change_batch_answers_name_their_reasons() {
    let fake = Fake::start().await;
    fake.then(
        "POST",
        "hostedzone/Z1/rrset",
        400,
        format!(
            "<?xml version=\"1.0\"?>\n<InvalidChangeBatch xmlns=\"{NS}\"><Messages><Message>\
             Tried to create resource record set [name=&apos;api.example.com.&apos;, type=&apos;A&apos;] \
             but it already exists</Message></Messages><RequestId>r</RequestId></InvalidChangeBatch>"
        ),
    );
    let aws = fake.clients().await;
    let set = rrset::to_sdk(&rrset::RecordSpec {
        name: "api.example.com".into(),
        rtype: "A".into(),
        ttl: Some(60),
        records: vec!["192.0.2.1".into()],
        ..Default::default()
    })
    .unwrap();
    let batch = rrset::change_batch(vec![(ChangeAction::Create, set)]).unwrap();
    let ctx = ctx();
    let err = change_records(&ctx, &aws, "Z1", &batch).await.unwrap_err();
    assert!(err.is("InvalidChangeBatch"), "{err:?}");
    assert!(err.message.contains("but it already exists"), "{err:?}");
    let text = crate::typed::ResourceError::from(err).to_string();
    assert!(
        text.starts_with("ChangeResourceRecordSets failed: InvalidChangeBatch: "),
        "{text}"
    );
    let seen = fake.seen();
    assert!(seen[0].body.contains("<Action>CREATE</Action>"), "{seen:?}");
}
