//! Checks our `proto/` definitions against the descriptors the Pulumi engine ships.
//!
//! The PyPI `pulumi` package carries every protocol file as a serialized `FileDescriptorProto`
//! (`pulumi/runtime/proto/*_pb2.py`). `tests/support/dump_engine_descriptors.py` prints them; this
//! test decodes them and compares every message (nested ones included), enum and service that we
//! define with the engine's: field names, numbers, types, type names, labels, proto3 `optional`,
//! oneof membership, reserved numbers and names, enum values, and RPC signatures and streaming
//! flags. All differences are reported at once.
//!
//! The interpreter is `$ZT_PYTHON`, else the project venv (`$ZT_VENV`, or `.cache/venv` under
//! `$ZT_CACHE` / `$ZT_ROOT` / the crate root) when it exists, else `python3`. An interpreter
//! without the `pulumi` package fails the test: run `scripts/setup.sh` (or
//! `scripts/python-env.sh`) first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FileDescriptorProto, FileDescriptorSet,
    ServiceDescriptorProto,
};
use zerotrust::protocol::FILE_DESCRIPTOR_SET;

/// The files that must be among ours; each is checked against its engine counterpart.
const REQUIRED_FILES: &[&str] = &[
    "pulumi/provider.proto",
    "pulumi/plugin.proto",
    "pulumi/alias.proto",
    "pulumi/engine.proto",
    "pulumi/resource.proto",
    "pulumi/source.proto",
    "pulumi/callback.proto",
    "pulumi/errors.proto",
    "google/rpc/status.proto",
];

/// The exit status of the helper script when `pulumi` cannot be imported.
const HELPER_MISSING_PULUMI: i32 = 3;

/// The engine's file holding the same definitions as our file `ours`. Pulumi keeps its copy of
/// `google.rpc.Status` under `google/protobuf/`; everything else has the same path.
fn engine_file_name(ours: &str) -> &str {
    match ours {
        "google/rpc/status.proto" => "google/protobuf/status.proto",
        other => other,
    }
}

/// Our own files: everything protoc put in the set except the well-known types it supplied.
fn our_files() -> Vec<FileDescriptorProto> {
    let set = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET)
        .expect("FILE_DESCRIPTOR_SET is a valid FileDescriptorSet");
    set.file
        .into_iter()
        .filter(|f| !f.name().starts_with("google/protobuf/"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Normalised facts, keyed by fully qualified name.

#[derive(Debug, Clone, PartialEq)]
struct FieldFacts {
    number: i32,
    kind: String,
    type_name: String,
    label: String,
    proto3_optional: bool,
    oneof: Option<String>,
    deprecated: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct MessageFacts {
    fields: BTreeMap<String, FieldFacts>,
    oneofs: Vec<String>,
    reserved_ranges: Vec<(i32, i32)>,
    reserved_names: BTreeSet<String>,
    map_entry: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct MethodFacts {
    input: String,
    output: String,
    client_streaming: bool,
    server_streaming: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Definition {
    Message(MessageFacts),
    Enum(BTreeMap<String, i32>),
    Service(BTreeMap<String, MethodFacts>),
}

impl Definition {
    fn kind(&self) -> &'static str {
        match self {
            Definition::Message(_) => "message",
            Definition::Enum(_) => "enum",
            Definition::Service(_) => "service",
        }
    }
}

fn type_label(kind: Type) -> String {
    kind.as_str_name()
        .trim_start_matches("TYPE_")
        .to_ascii_lowercase()
}

fn label_name(label: Label) -> String {
    label
        .as_str_name()
        .trim_start_matches("LABEL_")
        .to_ascii_lowercase()
}

fn message_facts(message: &DescriptorProto) -> MessageFacts {
    let oneof_name = |index: i32| {
        message
            .oneof_decl
            .get(index as usize)
            .map_or_else(|| format!("#{index}"), |o| o.name().to_owned())
    };
    let fields = message
        .field
        .iter()
        .map(|f| {
            let facts = FieldFacts {
                number: f.number(),
                kind: type_label(f.r#type()),
                type_name: f.type_name().to_owned(),
                label: label_name(f.label()),
                proto3_optional: f.proto3_optional(),
                oneof: f.oneof_index.map(oneof_name),
                deprecated: f.options.as_ref().is_some_and(|o| o.deprecated()),
            };
            (f.name().to_owned(), facts)
        })
        .collect();
    let mut reserved_ranges: Vec<(i32, i32)> = message
        .reserved_range
        .iter()
        .map(|r| (r.start(), r.end()))
        .collect();
    reserved_ranges.sort_unstable();
    MessageFacts {
        fields,
        oneofs: message
            .oneof_decl
            .iter()
            .map(|o| o.name().to_owned())
            .collect(),
        reserved_ranges,
        reserved_names: message.reserved_name.iter().cloned().collect(),
        map_entry: message.options.as_ref().is_some_and(|o| o.map_entry()),
    }
}

fn enum_facts(enumeration: &EnumDescriptorProto) -> BTreeMap<String, i32> {
    enumeration
        .value
        .iter()
        .map(|v| (v.name().to_owned(), v.number()))
        .collect()
}

fn service_facts(service: &ServiceDescriptorProto) -> BTreeMap<String, MethodFacts> {
    service
        .method
        .iter()
        .map(|m| {
            let facts = MethodFacts {
                input: m.input_type().to_owned(),
                output: m.output_type().to_owned(),
                client_streaming: m.client_streaming(),
                server_streaming: m.server_streaming(),
            };
            (m.name().to_owned(), facts)
        })
        .collect()
}

fn collect_message(
    prefix: &str,
    message: &DescriptorProto,
    into: &mut BTreeMap<String, Definition>,
) {
    let name = format!("{prefix}.{}", message.name());
    for nested in &message.nested_type {
        collect_message(&name, nested, into);
    }
    for enumeration in &message.enum_type {
        let enum_name = format!("{name}.{}", enumeration.name());
        into.insert(enum_name, Definition::Enum(enum_facts(enumeration)));
    }
    into.insert(name, Definition::Message(message_facts(message)));
}

/// Every definition in `file`, by fully qualified name (without the leading dot).
fn definitions(file: &FileDescriptorProto) -> BTreeMap<String, Definition> {
    let mut out = BTreeMap::new();
    let package = file.package();
    for message in &file.message_type {
        collect_message(package, message, &mut out);
    }
    for enumeration in &file.enum_type {
        let name = format!("{package}.{}", enumeration.name());
        out.insert(name, Definition::Enum(enum_facts(enumeration)));
    }
    for service in &file.service {
        let name = format!("{package}.{}", service.name());
        out.insert(name, Definition::Service(service_facts(service)));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Comparison.

fn differ<T: std::fmt::Debug + PartialEq>(
    out: &mut Vec<String>,
    what: &str,
    attribute: &str,
    engine: &T,
    ours: &T,
) {
    if engine != ours {
        out.push(format!(
            "{what}: {attribute} differs: engine {engine:?}, ours {ours:?}"
        ));
    }
}

/// Reports keys present on one side only, then calls `each` for the keys both sides have.
fn compare_keyed<V>(
    out: &mut Vec<String>,
    what: &str,
    item: &str,
    engine: &BTreeMap<String, V>,
    ours: &BTreeMap<String, V>,
    mut each: impl FnMut(&mut Vec<String>, &str, &V, &V),
) {
    for (name, engine_value) in engine {
        match ours.get(name) {
            Some(our_value) => each(out, name, engine_value, our_value),
            None => out.push(format!("{what}: {item} `{name}` is missing from ours")),
        }
    }
    for name in ours.keys().filter(|n| !engine.contains_key(*n)) {
        out.push(format!("{what}: {item} `{name}` is not in the engine's"));
    }
}

fn compare_messages(out: &mut Vec<String>, name: &str, engine: &MessageFacts, ours: &MessageFacts) {
    compare_keyed(
        out,
        name,
        "field",
        &engine.fields,
        &ours.fields,
        |out, field, e, o| {
            let what = format!("{name}.{field}");
            differ(out, &what, "number", &e.number, &o.number);
            differ(out, &what, "type", &e.kind, &o.kind);
            differ(out, &what, "type_name", &e.type_name, &o.type_name);
            differ(out, &what, "label", &e.label, &o.label);
            differ(
                out,
                &what,
                "proto3_optional",
                &e.proto3_optional,
                &o.proto3_optional,
            );
            differ(out, &what, "oneof", &e.oneof, &o.oneof);
            differ(out, &what, "deprecated", &e.deprecated, &o.deprecated);
        },
    );
    differ(out, name, "oneof_decl", &engine.oneofs, &ours.oneofs);
    differ(
        out,
        name,
        "reserved_range",
        &engine.reserved_ranges,
        &ours.reserved_ranges,
    );
    differ(
        out,
        name,
        "reserved_name",
        &engine.reserved_names,
        &ours.reserved_names,
    );
    differ(out, name, "map_entry", &engine.map_entry, &ours.map_entry);
}

fn compare_definitions(out: &mut Vec<String>, name: &str, engine: &Definition, ours: &Definition) {
    match (engine, ours) {
        (Definition::Message(e), Definition::Message(o)) => compare_messages(out, name, e, o),
        (Definition::Enum(e), Definition::Enum(o)) => {
            compare_keyed(out, name, "value", e, o, |out, value, e, o| {
                differ(out, &format!("{name}.{value}"), "number", e, o);
            });
        }
        (Definition::Service(e), Definition::Service(o)) => {
            compare_keyed(out, name, "rpc", e, o, |out, method, e, o| {
                let what = format!("{name}/{method}");
                differ(out, &what, "input_type", &e.input, &o.input);
                differ(out, &what, "output_type", &e.output, &o.output);
                differ(
                    out,
                    &what,
                    "client_streaming",
                    &e.client_streaming,
                    &o.client_streaming,
                );
                differ(
                    out,
                    &what,
                    "server_streaming",
                    &e.server_streaming,
                    &o.server_streaming,
                );
            });
        }
        (e, o) => out.push(format!(
            "{name}: engine defines a {}, ours a {}",
            e.kind(),
            o.kind()
        )),
    }
}

/// Compares each of our files with the engine file of the same content and returns every
/// difference found, one line each (empty when they agree).
fn compare(engine_files: &[FileDescriptorProto], our_files: &[FileDescriptorProto]) -> Vec<String> {
    let mut out = Vec::new();
    for required in REQUIRED_FILES {
        if !our_files.iter().any(|f| f.name() == *required) {
            out.push(format!("{required}: missing from our descriptor set"));
        }
    }
    for ours in our_files {
        let engine_name = engine_file_name(ours.name());
        let Some(engine) = engine_files.iter().find(|f| f.name() == engine_name) else {
            out.push(format!(
                "{}: the engine has no counterpart file {engine_name}",
                ours.name()
            ));
            continue;
        };
        let file = ours.name();
        differ(
            &mut out,
            file,
            "package",
            &engine.package(),
            &ours.package(),
        );
        differ(&mut out, file, "syntax", &engine.syntax(), &ours.syntax());
        let engine_defs = definitions(engine);
        let our_defs = definitions(ours);
        compare_keyed(
            &mut out,
            file,
            "definition",
            &engine_defs,
            &our_defs,
            |out, name, e, o| {
                compare_definitions(out, name, e, o);
            },
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The engine's descriptors, via the helper script.

fn python_interpreter() -> PathBuf {
    if let Some(explicit) = std::env::var_os("ZT_PYTHON") {
        return PathBuf::from(explicit);
    }
    let root = std::env::var_os("ZT_ROOT")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let venv = std::env::var_os("ZT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("ZT_CACHE")
                .map_or_else(|| root.join(".cache"), PathBuf::from)
                .join("venv")
        });
    let venv_python = venv.join("bin").join("python");
    if venv_python.exists() {
        venv_python
    } else {
        PathBuf::from("python3")
    }
}

const SETUP_HINT: &str = "run `scripts/setup.sh` (or just `scripts/python-env.sh`) to create \
     .cache/venv with PyPI pulumi==3.272.0, or set ZT_PYTHON to a Python interpreter that has \
     the `pulumi` package installed";

struct EngineDescriptors {
    pulumi_version: String,
    files: Vec<FileDescriptorProto>,
}

fn engine_descriptors() -> EngineDescriptors {
    let python = python_interpreter();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/dump_engine_descriptors.py");
    let output = Command::new(&python)
        .arg(&script)
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run the Python interpreter {}: {err}\n{SETUP_HINT}",
                python.display()
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(HELPER_MISSING_PULUMI) {
        panic!(
            "the Python interpreter {} lacks the PyPI `pulumi` package, whose descriptors this \
             test compares against ({})\n{SETUP_HINT}",
            python.display(),
            stderr.trim()
        );
    }
    assert!(
        output.status.success(),
        "{} {} failed with {}:\n{stderr}",
        python.display(),
        script.display(),
        output.status
    );

    let stdout = String::from_utf8(output.stdout).expect("helper output is UTF-8");
    let mut pulumi_version = String::from("unknown");
    let mut files = Vec::new();
    for line in stdout.lines() {
        let mut parts = line.split(' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("pulumi"), Some(version), None) => pulumi_version = version.to_owned(),
            (Some("file"), Some(name), Some(encoded)) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .unwrap_or_else(|err| panic!("bad base64 for {name}: {err}"));
                let file = FileDescriptorProto::decode(bytes.as_slice())
                    .unwrap_or_else(|err| panic!("bad FileDescriptorProto for {name}: {err}"));
                assert_eq!(file.name(), name, "helper mislabelled a descriptor");
                files.push(file);
            }
            _ => panic!("unexpected line from the helper: {line:?}"),
        }
    }
    assert!(!files.is_empty(), "the helper printed no descriptors");
    EngineDescriptors {
        pulumi_version,
        files,
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn our_protocol_definitions_match_the_engines() {
    let engine = engine_descriptors();
    let ours = our_files();
    let differences = compare(&engine.files, &ours);
    let compared: Vec<String> = ours
        .iter()
        .map(|f| format!("{} <-> {}", f.name(), engine_file_name(f.name())))
        .collect();
    assert!(
        differences.is_empty(),
        "proto/ differs from the descriptors of PyPI pulumi {} in {} place(s):\n  {}\n(files \
         compared: {})",
        engine.pulumi_version,
        differences.len(),
        differences.join("\n  "),
        compared.join(", ")
    );
    eprintln!(
        "proto/ matches PyPI pulumi {} ({})",
        engine.pulumi_version,
        compared.join(", ")
    );
}

/// An "engine" whose descriptors are exactly ours, under the engine's file names.
fn engine_identical_to_ours() -> Vec<FileDescriptorProto> {
    our_files()
        .into_iter()
        .map(|mut f| {
            let renamed = engine_file_name(f.name()).to_owned();
            f.name = Some(renamed);
            f
        })
        .collect()
}

fn message_mut<'a>(files: &'a mut [FileDescriptorProto], name: &str) -> &'a mut DescriptorProto {
    files
        .iter_mut()
        .flat_map(|f| f.message_type.iter_mut())
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no message {name}"))
}

#[test]
fn comparison_passes_for_identical_descriptors() {
    let differences = compare(&engine_identical_to_ours(), &our_files());
    assert!(differences.is_empty(), "unexpected: {differences:#?}");
}

#[test]
fn comparison_reports_each_kind_of_change() {
    type Mutation = fn(&mut Vec<FileDescriptorProto>);
    let cases: &[(&str, Mutation, &str)] = &[
        (
            "a field number",
            |files| {
                let message = message_mut(files, "ReadRequest");
                let field = message
                    .field
                    .iter_mut()
                    .find(|f| f.name() == "timeout")
                    .unwrap();
                field.number = Some(field.number() + 100);
            },
            "pulumirpc.ReadRequest.timeout: number differs",
        ),
        (
            "a field type",
            |files| {
                let message = message_mut(files, "LogRequest");
                let field = message
                    .field
                    .iter_mut()
                    .find(|f| f.name() == "streamId")
                    .unwrap();
                field.set_type(Type::Int64);
            },
            "pulumirpc.LogRequest.streamId: type differs",
        ),
        (
            "a label",
            |files| {
                let message = message_mut(files, "DiffResponse");
                let field = message
                    .field
                    .iter_mut()
                    .find(|f| f.name() == "replaces")
                    .unwrap();
                field.set_label(Label::Optional);
            },
            "pulumirpc.DiffResponse.replaces: label differs",
        ),
        (
            "proto3 optional",
            |files| {
                let message = message_mut(files, "ConfigureRequest");
                let field = message
                    .field
                    .iter_mut()
                    .find(|f| f.name() == "urn")
                    .unwrap();
                field.proto3_optional = Some(false);
            },
            "pulumirpc.ConfigureRequest.urn: proto3_optional differs",
        ),
        (
            "a new engine field",
            |files| {
                let message = message_mut(files, "CreateRequest");
                let mut extra = message.field[0].clone();
                extra.name = Some("brand_new".to_owned());
                extra.number = Some(99);
                message.field.push(extra);
            },
            "pulumirpc.CreateRequest: field `brand_new` is missing from ours",
        ),
        (
            "a nested enum value",
            |files| {
                let message = message_mut(files, "PropertyDiff");
                message.enum_type[0].value[1].number = Some(7);
            },
            "pulumirpc.PropertyDiff.Kind.ADD_REPLACE: number differs",
        ),
        (
            "a streaming flag",
            |files| {
                let service = files
                    .iter_mut()
                    .flat_map(|f| f.service.iter_mut())
                    .find(|s| s.name() == "ResourceProvider")
                    .unwrap();
                let method = service
                    .method
                    .iter_mut()
                    .find(|m| m.name() == "List")
                    .unwrap();
                method.server_streaming = Some(false);
            },
            "pulumirpc.ResourceProvider/List: server_streaming differs",
        ),
        (
            "a reserved range",
            |files| {
                let message = message_mut(files, "InvokeRequest");
                message.reserved_range.clear();
            },
            "pulumirpc.InvokeRequest: reserved_range differs",
        ),
        (
            "a missing message",
            |files| {
                let file = files
                    .iter_mut()
                    .find(|f| f.name() == "pulumi/engine.proto")
                    .unwrap();
                let mut extra = file.message_type[0].clone();
                extra.name = Some("BrandNewRequest".to_owned());
                file.message_type.push(extra);
            },
            "pulumi/engine.proto: definition `pulumirpc.BrandNewRequest` is missing from ours",
        ),
    ];
    let ours = our_files();
    for (what, mutate, expected) in cases {
        let mut engine = engine_identical_to_ours();
        mutate(&mut engine);
        let differences = compare(&engine, &ours);
        assert!(
            differences.iter().any(|d| d.starts_with(expected)),
            "changing {what} should report {expected:?}, got {differences:#?}"
        );
    }
}
