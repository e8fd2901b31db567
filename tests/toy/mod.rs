//! The toy provider: a second, tiny package ("toy", one resource and one function, its own
//! configuration type) built on the same core as zerotrust. The gRPC tests drive it in process;
//! `toy-provider` (the example built from `tests/toy/serve.rs`) serves it as a plugin binary, with
//! the defects named in `TOY_DEFECTS` switched on, so the conformance suite can be shown to catch
//! each one. Nothing here comes from zerotrust's modules.

#![allow(dead_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use zerotrust::model::schema::{Types, json_schema_of, object_spec};
use zerotrust::server::service::{ConfigSchema, Provider};
use zerotrust::server::{Package, Registry};
use zerotrust::typed::{
    CheckCtx, ChildOptions, Component, Created, Ctx, Failures, Function, ReadOutcome, Resource,
    ResourceError, Scope, Secret, Value, replace_on_changes,
};

pub mod defects;
use defects::{Defect, on};

/// The toy provider's settings.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToyConfig {
    /// Put in front of every word.
    #[serde(default)]
    prefix: Option<Value<String>>,
    /// Make every word in capitals, prefix included.
    #[serde(default)]
    uppercase: Option<Value<bool>>,
}

/// `toy:index:Word`: a word of `length` letters derived from the resource's URN.
///
/// Some labels provoke situations the engine must cope with: `panic` makes Check panic (inside
/// the core's guard), `half-made` makes Create fail after making the word (an init failure that
/// carries the id and outputs), and `slow` makes Create wait two minutes first, watching for the
/// engine's Cancel.
pub struct Word;

/// The label that makes Check panic.
pub const PANIC_LABEL: &str = "panic";
/// The label that makes Create fail after making the word.
pub const HALF_MADE_LABEL: &str = "half-made";
/// The label that makes Create wait before making the word.
pub const SLOW_LABEL: &str = "slow";
/// How long a `slow` word takes to make.
pub const SLOW_CREATE: std::time::Duration = std::time::Duration::from_secs(120);
/// Why a `half-made` word is not finished.
pub const HALF_MADE_REASON: &str = "the toy made the word but could not finish it";

impl WordInputs {
    /// Whether the label is known and is `label`.
    fn labelled(&self, label: &str) -> bool {
        matches!(&self.label, Some(Value::Known(l)) if l == label)
    }
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WordInputs {
    /// How many letters, 1 to 32; a new length makes a new word.
    #[schemars(transform = replace_on_changes)]
    length: Value<i64>,
    /// A free-form label, changed in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<Value<String>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WordOutputs {
    /// The requested length.
    length: Value<i64>,
    /// The label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<Value<String>>,
    /// The word, with the configured prefix.
    word: Value<String>,
    /// A secret made with the word.
    password: Value<Secret<String>>,
}

pub fn make_word(urn: &str, length: i64) -> String {
    let letters: Vec<char> = urn.chars().filter(char::is_ascii_lowercase).collect();
    (0..length as usize)
        .map(|i| {
            letters
                .get(i % letters.len().max(1))
                .copied()
                .unwrap_or('a')
        })
        .collect()
}

impl Resource<ToyConfig> for Word {
    type Inputs = WordInputs;
    type Outputs = WordOutputs;
    const TOKEN: &'static str = "toy:index:Word";
    const DESCRIPTION: &'static str = "A word.";
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, WordInputs>,
        mut inputs: WordInputs,
        failures: &mut Failures,
    ) -> WordInputs {
        if inputs.labelled(PANIC_LABEL) {
            panic!("the toy's Check was asked to panic");
        }
        if let Value::Known(n) = inputs.length
            && !(1..=32).contains(&n)
        {
            failures.at("length", format!("length {n} is not between 1 and 32"));
            if on(Defect::CheckFirstFailureOnly) {
                return inputs;
            }
        }
        if on(Defect::CheckRejectsValid) {
            failures.at("length", "no length is good enough");
        }
        if on(Defect::CheckNotIdempotent)
            && let Some(Value::Known(label)) = &mut inputs.label
        {
            label.push('!');
        }
        if on(Defect::CheckDropsUnknown) && inputs.length.is_unknown() {
            inputs.length = Value::Known(5);
        }
        if let Some(Value::Known(label)) = &inputs.label
            && label.is_empty()
        {
            failures.at("label", "an empty label; leave it out instead");
        }
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx<ToyConfig>,
        inputs: WordInputs,
    ) -> Result<Created<WordOutputs>, ResourceError> {
        if ctx.preview() {
            if on(Defect::PreviewNeedsKnown) && inputs.length.is_unknown() {
                return Err(ResourceError::Internal("length must be known".into()));
            }
            return Ok(Created {
                id: String::new(),
                outputs: WordOutputs {
                    length: inputs.length,
                    label: inputs.label,
                    word: Value::Unknown,
                    password: Value::Unknown,
                },
            });
        }
        let Value::Known(length) = inputs.length else {
            return Err(ResourceError::Internal(
                "length unknown outside preview".into(),
            ));
        };
        // With `cancel_ignored` the wrapper has already waited, deaf to Cancel.
        if inputs.labelled(SLOW_LABEL) && !on(Defect::CancelIgnored) {
            tokio::select! {
                () = tokio::time::sleep(SLOW_CREATE) => {}
                () = ctx.cancelled() => return Err(ResourceError::Cancelled),
            }
        }
        let config = ctx.config();
        let prefix = match &config.prefix {
            Some(Value::Known(p)) => p.clone(),
            _ => String::new(),
        };
        let mut word = format!("{prefix}{}", make_word(ctx.urn(), length));
        if matches!(config.uppercase, Some(Value::Known(true))) {
            word = word.to_uppercase();
        }
        if on(Defect::LeakSecretLog) {
            ctx.info(format!("made the password {word}-{length}!"));
        }
        let half_made = inputs.labelled(HALF_MADE_LABEL);
        let id = format!("word-{}", ctx.name());
        let outputs = WordOutputs {
            length: inputs.length,
            label: inputs.label,
            password: Value::Known(Secret::new(format!("{word}-{length}!"))),
            word: Value::Known(word),
        };
        if half_made {
            return Err(ResourceError::InitFailed {
                outputs: serde_json::to_value(&outputs)
                    .map_err(|e| ResourceError::Internal(format!("outputs: {e}")))?,
                id,
                reasons: vec![HALF_MADE_REASON.into()],
            });
        }
        Ok(Created { id, outputs })
    }

    /// Gone once deleted (the process remembers what it deleted: the toy keeps no backend).
    async fn read(
        &self,
        _ctx: &Ctx<ToyConfig>,
        id: String,
        inputs: Option<WordInputs>,
        outputs: Option<WordOutputs>,
    ) -> Result<ReadOutcome<WordInputs, WordOutputs>, ResourceError> {
        if deleted().lock().is_ok_and(|d| d.contains(&id)) {
            if on(Defect::ReadAfterDeleteError) {
                return Err(ResourceError::backend(
                    "read",
                    format!("{id} does not exist"),
                ));
            }
            return Ok(ReadOutcome::Gone);
        }
        match (inputs, outputs) {
            (Some(inputs), Some(mut outputs)) => {
                if on(Defect::ReadChanges) {
                    outputs.label = Some(Value::Known("changed behind your back".into()));
                }
                Ok(ReadOutcome::Found {
                    id,
                    inputs,
                    outputs,
                })
            }
            _ => Err(ResourceError::Unsupported(
                "a word cannot be imported".into(),
            )),
        }
    }

    async fn delete(
        &self,
        _ctx: &Ctx<ToyConfig>,
        id: String,
        _outputs: WordOutputs,
    ) -> Result<(), ResourceError> {
        if let Ok(mut d) = deleted().lock() {
            d.insert(id);
        }
        Ok(())
    }

    async fn update(
        &self,
        _ctx: &Ctx<ToyConfig>,
        _id: String,
        olds: WordOutputs,
        news: WordInputs,
    ) -> Result<WordOutputs, ResourceError> {
        Ok(WordOutputs {
            label: news.label,
            ..olds
        })
    }
}

/// The ids this process has deleted.
fn deleted() -> &'static Mutex<HashSet<String>> {
    static DELETED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    DELETED.get_or_init(Mutex::default)
}

/// `toy:index:Phrase`: a component of one `Word` per requested length, each made after the one
/// before it.
pub struct Phrase;

/// The most words a phrase may have.
pub const PHRASE_MAX_WORDS: usize = 8;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhraseInputs {
    /// The length of each word, 1 to 32.
    lengths: Vec<Value<i64>>,
    /// A label given to every word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<Value<String>>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhraseOutputs {
    /// The words, separated by spaces.
    text: Value<String>,
    /// How many words.
    count: i64,
    /// The first word's password.
    password: Value<Secret<String>>,
}

impl Component<ToyConfig> for Phrase {
    type Inputs = PhraseInputs;
    type Outputs = PhraseOutputs;
    const TOKEN: &'static str = "toy:index:Phrase";
    const DESCRIPTION: &'static str = "Words, made one after another.";

    fn check(&self, inputs: &PhraseInputs, failures: &mut Failures) {
        if inputs.lengths.is_empty() || inputs.lengths.len() > PHRASE_MAX_WORDS {
            failures.at(
                "lengths",
                format!("a phrase has 1 to {PHRASE_MAX_WORDS} words"),
            );
        }
        for (i, length) in inputs.lengths.iter().enumerate() {
            if let Value::Known(n) = length
                && !(1..=32).contains(n)
            {
                failures.add(
                    zerotrust::codec::PropertyPath::root()
                        .key("lengths")
                        .index(i),
                    format!("length {n} is not between 1 and 32"),
                );
            }
        }
    }

    async fn construct(
        &self,
        scope: &Scope<'_, ToyConfig>,
        inputs: PhraseInputs,
    ) -> Result<PhraseOutputs, ResourceError> {
        let mut words = Vec::new();
        let mut password = Value::Unknown;
        let mut previous: Option<String> = None;
        for (i, length) in inputs.lengths.iter().enumerate() {
            let word_inputs = WordInputs {
                length: length.clone(),
                label: inputs.label.clone(),
            };
            let options = ChildOptions::depends_on(previous.as_deref());
            let child = scope
                .register::<Word>(format!("{}-{i}", scope.name()), &word_inputs, options)
                .await?;
            if i == 0 {
                password = child.outputs.password;
            }
            words.push(child.outputs.word);
            previous = Some(child.urn);
        }
        let text = words
            .into_iter()
            .map(Value::into_known)
            .collect::<Option<Vec<String>>>()
            .map_or(Value::Unknown, |w| Value::Known(w.join(" ")));
        Ok(PhraseOutputs {
            text,
            count: inputs.lengths.len() as i64,
            password,
        })
    }
}

/// `toy:index:shout`: the text in capitals.
struct Shout;

#[derive(Deserialize, JsonSchema)]
struct ShoutArgs {
    /// What to shout.
    text: String,
}

#[derive(Serialize, JsonSchema)]
struct ShoutResult {
    /// The text, in capitals.
    text: String,
    /// The text as given, kept secret.
    echo: Secret<String>,
}

impl Function<ToyConfig> for Shout {
    type Args = ShoutArgs;
    type Result = ShoutResult;
    const TOKEN: &'static str = "toy:index:shout";
    const DESCRIPTION: &'static str = "Shouts.";

    async fn invoke(
        &self,
        _ctx: &Ctx<ToyConfig>,
        args: ShoutArgs,
    ) -> Result<ShoutResult, ResourceError> {
        Ok(ShoutResult {
            text: args.text.to_uppercase(),
            echo: Secret::new(args.text),
        })
    }
}

pub fn toy_package() -> Package {
    Package {
        name: "toy",
        version: "0.0.7",
        display_name: "Toy",
        description: "A package that proves the core serves more than one provider.",
        keywords: &["pulumi", "toy"],
        license: "Apache-2.0",
        publisher: "tests",
        provider_description: "The toy provider.",
        meta: serde_json::json!({"moduleFormat": "(.*)"}),
        languages: |_| serde_json::json!({"python": {"packageName": "pulumi_toy"}}),
    }
}

pub fn toy_provider() -> Provider<ToyConfig> {
    let registry = Registry::default()
        .resource(Word)
        .component(Phrase)
        .function(Shout);
    assert!(registry.problems().is_empty(), "{:?}", registry.problems());
    let mut types = Types::new();
    let spec = object_spec(&json_schema_of::<ToyConfig>(), "toy", "index", &mut types);
    Provider::new(toy_package(), registry, ConfigSchema { spec, types })
}
