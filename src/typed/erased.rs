//! The blanket adapter from typed resources and functions to the dynamic form the server calls.
//!
//! Everything generic lives here once: wire-type validation, serde decoding with paths, the
//! look-aside secret bookkeeping, the structural diff, and the "no unknowns outside preview" rule.

use super::component::{Component, Registrar, construct_typed};
use super::{
    CheckCtx, CheckFailure, Created, Ctx, DiffInput, Failures, Function, ReadOutcome, Resource,
    ResourceError,
};
use crate::codec::typed_json::{SecretPaths, json_to_map, map_to_json, mark_secret_paths};
use crate::codec::{PropertyMap, PropertyPath, PropertyValue, UnknownKind, contains_unknowns};
use crate::model::diff::{ChangeKind, DiffResult, diff_inputs};
use crate::model::empty::drop_empty_optionals;
use crate::model::schema::{
    ObjectSpec, Types, json_schema_of, module_of, object_spec, package_of, replacing_properties,
    resource_json,
};
use crate::model::validate::validate_object;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::marker::PhantomData;
use time::OffsetDateTime;

/// Schema facts derived once from a resource's or function's types.
pub struct Specs {
    pub inputs: ObjectSpec,
    pub outputs: ObjectSpec,
    pub types: Types,
}

impl Specs {
    fn derive<I: schemars::JsonSchema, O: schemars::JsonSchema>(token: &str) -> Self {
        let (package, module) = (package_of(token), module_of(token));
        let mut types = Types::new();
        let inputs = object_spec(&json_schema_of::<I>(), package, module, &mut types);
        let outputs = object_spec(&json_schema_of::<O>(), package, module, &mut types);
        Specs {
            inputs,
            outputs,
            types,
        }
    }
}

/// What Diff receives, already decoded.
pub struct DiffArgs<'a> {
    pub olds: &'a PropertyMap,
    pub news: &'a PropertyMap,
    pub old_inputs: Option<&'a PropertyMap>,
    /// The engine's ignoreChanges paths, as written by the user.
    pub ignore: &'a BTreeSet<String>,
    pub now: OffsetDateTime,
}

/// What Check receives, already decoded.
pub struct CheckArgs<'a> {
    pub name: &'a str,
    pub random_seed: &'a [u8],
    pub olds: &'a PropertyMap,
    pub news: &'a PropertyMap,
}

/// What a Read found, as property maps.
pub struct ReadMaps {
    pub id: String,
    pub inputs: PropertyMap,
    pub outputs: PropertyMap,
}

/// The dynamic face of a resource.
pub trait DynResource<C>: Send + Sync {
    fn token(&self) -> &'static str;
    fn specs(&self) -> &Specs;
    fn schema_json(&self) -> Json;
    fn check(&self, args: CheckArgs<'_>) -> (PropertyMap, Vec<CheckFailure>);
    /// The resource's backend checks of already checked inputs.
    fn check_live<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        inputs: &'a PropertyMap,
    ) -> BoxFuture<'a, Vec<CheckFailure>>;
    fn diff(&self, args: DiffArgs<'_>) -> DiffResult;
    fn create<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        inputs: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<(String, PropertyMap), ResourceError>>;
    fn read<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        id: String,
        inputs: Option<&'a PropertyMap>,
        outputs: Option<&'a PropertyMap>,
    ) -> BoxFuture<'a, Result<Option<ReadMaps>, ResourceError>>;
    fn update<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        id: String,
        olds: &'a PropertyMap,
        news: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<PropertyMap, ResourceError>>;
    fn delete<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        id: String,
        olds: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<(), ResourceError>>;
}

/// The dynamic face of a function.
pub trait DynFunction<C>: Send + Sync {
    fn token(&self) -> &'static str;
    fn specs(&self) -> &Specs;
    fn schema_json(&self) -> Json;
    fn invoke<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        args: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<Result<PropertyMap, Vec<CheckFailure>>, ResourceError>>;
}

/// A typed resource with its derived specs.
pub struct TypedResource<R, C> {
    inner: R,
    config: PhantomData<fn() -> C>,
    specs: Specs,
    replace_keys: BTreeSet<String>,
}

impl<C: Send + Sync + 'static, R: Resource<C>> TypedResource<R, C> {
    pub fn new(inner: R) -> Self {
        let specs = Specs::derive::<R::Inputs, R::Outputs>(R::TOKEN);
        // Without an update, every change replaces.
        let replace_keys = if R::UPDATABLE {
            replacing_properties(&specs.inputs).into_iter().collect()
        } else {
            specs.inputs.properties.keys().cloned().collect()
        };
        TypedResource {
            inner,
            config: PhantomData,
            specs,
            replace_keys,
        }
    }

    /// The inputs with empty optional values dropped, where the resource reads them as unset
    /// (borrowed as they are for the resources that do not, so their Check copies nothing).
    fn without_empty_inputs<'m>(&self, inputs: &'m PropertyMap) -> Cow<'m, PropertyMap> {
        let Some(kept) = R::EMPTY_INPUTS.kept() else {
            return Cow::Borrowed(inputs);
        };
        let mut inputs = inputs.clone();
        drop_empty_optionals(&mut inputs, &self.specs.inputs, &self.specs.types, kept);
        Cow::Owned(inputs)
    }
}

fn serde_path(path: &serde_path_to_error::Path) -> PropertyPath {
    use serde_path_to_error::Segment;
    path.iter().fold(PropertyPath::root(), |p, seg| match seg {
        Segment::Seq { index } => p.index(*index),
        Segment::Map { key } => p.key(key.as_str()),
        Segment::Enum { variant } => p.key(variant.as_str()),
        Segment::Unknown => p,
    })
}

/// Whether `path` is covered by one of the engine's ignoreChanges paths (itself or below it).
fn is_ignored(path: &PropertyPath, ignore: &BTreeSet<String>) -> bool {
    let rendered = path.to_string();
    ignore.iter().any(|i| {
        rendered == *i
            || rendered
                .strip_prefix(i.as_str())
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    })
}

/// Decode a property map into a typed value, with the path of the first failure.
pub fn decode<T: DeserializeOwned>(map: &PropertyMap) -> Result<(T, SecretPaths), CheckFailure> {
    let (json, secrets) = map_to_json(map);
    serde_path_to_error::deserialize(json)
        .map(|v| (v, secrets))
        .map_err(|e| CheckFailure {
            property: serde_path(e.path()),
            reason: e.inner().to_string(),
        })
}

/// Encode a typed value as a property map, re-marking secrets seen on the way in.
pub fn encode<T: Serialize>(
    value: &T,
    secrets: &SecretPaths,
) -> Result<PropertyMap, ResourceError> {
    let json = serde_json::to_value(value)
        .map_err(|e| ResourceError::Internal(format!("encoding properties: {e}")))?;
    let mut map = json_to_map(&json)
        .ok_or_else(|| ResourceError::Internal("properties did not encode as an object".into()))?;
    map.retain(|_, v| !matches!(v, PropertyValue::Null));
    mark_secret_paths(&mut map, secrets);
    Ok(map)
}

fn decode_state<T: DeserializeOwned>(
    what: &str,
    map: &PropertyMap,
) -> Result<(T, SecretPaths), ResourceError> {
    decode(map).map_err(|f| {
        ResourceError::Internal(format!(
            "recorded {what} do not decode at '{}': {}",
            f.property, f.reason
        ))
    })
}

fn require_known<C>(ctx: &Ctx<C>, map: &PropertyMap) -> Result<(), ResourceError> {
    if !ctx.preview() && contains_unknowns(map) {
        return Err(ResourceError::Internal(
            "the provider produced unknown outputs outside of preview".into(),
        ));
    }
    Ok(())
}

impl<C: Send + Sync + 'static, R: Resource<C>> DynResource<C> for TypedResource<R, C> {
    fn token(&self) -> &'static str {
        R::TOKEN
    }

    fn specs(&self) -> &Specs {
        &self.specs
    }

    fn schema_json(&self) -> Json {
        let mut inputs = self.specs.inputs.clone();
        if !R::UPDATABLE {
            // Say in the schema what the diff does: every input replaces.
            for p in inputs.properties.values_mut() {
                if let Some(obj) = p.as_object_mut() {
                    obj.insert("replaceOnChanges".into(), Json::Bool(true));
                }
            }
        }
        resource_json(R::DESCRIPTION, &inputs, &self.specs.outputs)
    }

    fn check(&self, args: CheckArgs<'_>) -> (PropertyMap, Vec<CheckFailure>) {
        let news = &*self.without_empty_inputs(args.news);
        let failures = validate_object(news, &self.specs.inputs, &self.specs.types);
        if !failures.is_empty() {
            return (news.clone(), failures);
        }
        let (inputs, secrets) = match decode::<R::Inputs>(news) {
            Ok(decoded) => decoded,
            Err(f) => return (news.clone(), vec![f]),
        };
        let olds = if args.olds.is_empty() {
            None
        } else {
            decode::<R::Inputs>(args.olds).ok().map(|(o, _)| o)
        };
        let ctx = CheckCtx {
            name: args.name,
            random_seed: args.random_seed,
            olds: olds.as_ref(),
        };
        let mut failures = Failures::default();
        let checked = self.inner.check(&ctx, inputs, &mut failures);
        if !failures.is_empty() {
            return (news.clone(), failures.into_vec());
        }
        match encode(&checked, &secrets) {
            Ok(map) => (map, Vec::new()),
            Err(e) => (
                news.clone(),
                vec![CheckFailure {
                    property: PropertyPath::root(),
                    reason: e.to_string(),
                }],
            ),
        }
    }

    fn check_live<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        inputs: &'a PropertyMap,
    ) -> BoxFuture<'a, Vec<CheckFailure>> {
        Box::pin(async move {
            let Ok((decoded, _)) = decode::<R::Inputs>(inputs) else {
                return Vec::new();
            };
            let mut failures = Failures::default();
            self.inner.check_live(ctx, &decoded, &mut failures).await;
            failures.into_vec()
        })
    }

    fn diff(&self, args: DiffArgs<'_>) -> DiffResult {
        // Old inputs are authoritative; very old state without them falls back to the outputs
        // that carry input names.
        let base: PropertyMap = match args.old_inputs {
            Some(m) if !m.is_empty() => m.clone(),
            _ => args
                .olds
                .iter()
                .filter(|(k, _)| self.specs.inputs.properties.contains_key(k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        // State written before a resource read empty inputs as unset may still hold them.
        let base = self.without_empty_inputs(&base).into_owned();
        // The engine has already reset ignored paths in `news`; only output-derived entries
        // (such as readyForRenewal) need filtering here.
        let mut result = diff_inputs(&base, args.news, &self.replace_keys, &BTreeSet::new());
        if let (Ok((olds, _)), Ok((news, _))) = (
            decode::<R::Outputs>(args.olds),
            decode::<R::Inputs>(args.news),
        ) {
            let old_inputs = decode::<R::Inputs>(&base).ok().map(|(i, _)| i);
            let input = DiffInput {
                olds: &olds,
                old_inputs: old_inputs.as_ref(),
                news: &news,
                now: args.now,
            };
            for extra in self.inner.diff_extra(&input) {
                if !is_ignored(&extra.property, args.ignore) {
                    result.record(&extra.property, ChangeKind::Update, extra.replace);
                }
            }
            if !result.replaces.is_empty() {
                result.delete_before_replace = self.inner.delete_before_replace(&input);
            }
        }
        result
    }

    fn create<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        inputs: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<(String, PropertyMap), ResourceError>> {
        Box::pin(async move {
            let (typed, secrets) = match decode::<R::Inputs>(inputs) {
                Ok(d) => d,
                // In preview an input the type cannot hold yet means "outputs unknown".
                Err(_) if ctx.preview() && contains_unknowns(inputs) => {
                    return Ok((String::new(), PropertyMap::new()));
                }
                Err(f) => {
                    return Err(ResourceError::InvalidInput {
                        property: f.property,
                        reason: f.reason,
                    });
                }
            };
            let Created { id, outputs } = self.inner.create(ctx, typed).await?;
            let map = encode(&outputs, &secrets)?;
            require_known(ctx, &map)?;
            if !ctx.preview() && id.is_empty() {
                return Err(ResourceError::Internal(
                    "create returned an empty id".into(),
                ));
            }
            Ok((id, map))
        })
    }

    fn read<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        id: String,
        inputs: Option<&'a PropertyMap>,
        outputs: Option<&'a PropertyMap>,
    ) -> BoxFuture<'a, Result<Option<ReadMaps>, ResourceError>> {
        Box::pin(async move {
            let (inputs, input_secrets) = match inputs.filter(|m| !m.is_empty()) {
                Some(m) => {
                    let (v, s) = decode_state::<R::Inputs>("inputs", m)?;
                    (Some(v), s)
                }
                None => (None, SecretPaths::new()),
            };
            let (outputs, output_secrets) = match outputs.filter(|m| !m.is_empty()) {
                Some(m) => {
                    let (v, s) = decode_state::<R::Outputs>("outputs", m)?;
                    (Some(v), s)
                }
                None => (None, SecretPaths::new()),
            };
            match self.inner.read(ctx, id, inputs, outputs).await? {
                ReadOutcome::Gone => Ok(None),
                ReadOutcome::Found {
                    id,
                    inputs,
                    outputs,
                } => {
                    let inputs = encode(&inputs, &input_secrets)?;
                    let outputs = encode(&outputs, &output_secrets)?;
                    Ok(Some(ReadMaps {
                        id,
                        inputs,
                        outputs,
                    }))
                }
            }
        })
    }

    fn update<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        id: String,
        olds: &'a PropertyMap,
        news: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<PropertyMap, ResourceError>> {
        Box::pin(async move {
            let (olds, _) = decode_state::<R::Outputs>("outputs", olds)?;
            let (typed, secrets) = match decode::<R::Inputs>(news) {
                Ok(d) => d,
                Err(_) if ctx.preview() && contains_unknowns(news) => {
                    return Ok(PropertyMap::new());
                }
                Err(f) => {
                    return Err(ResourceError::InvalidInput {
                        property: f.property,
                        reason: f.reason,
                    });
                }
            };
            let outputs = self.inner.update(ctx, id, olds, typed).await?;
            let map = encode(&outputs, &secrets)?;
            require_known(ctx, &map)?;
            Ok(map)
        })
    }

    fn delete<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        id: String,
        olds: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let (olds, _) = decode_state::<R::Outputs>("outputs", olds)?;
            self.inner.delete(ctx, id, olds).await
        })
    }
}

/// A typed function with its derived specs.
pub struct TypedFunction<F, C> {
    inner: F,
    config: PhantomData<fn() -> C>,
    specs: Specs,
}

impl<C: Send + Sync + 'static, F: Function<C>> TypedFunction<F, C> {
    pub fn new(inner: F) -> Self {
        TypedFunction {
            inner,
            config: PhantomData,
            specs: Specs::derive::<F::Args, F::Result>(F::TOKEN),
        }
    }
}

impl<C: Send + Sync + 'static, F: Function<C>> DynFunction<C> for TypedFunction<F, C> {
    fn token(&self) -> &'static str {
        F::TOKEN
    }

    fn specs(&self) -> &Specs {
        &self.specs
    }

    fn schema_json(&self) -> Json {
        let obj = |spec: &ObjectSpec| {
            serde_json::json!({
                "type": "object",
                "properties": spec.properties,
                "required": spec.required,
            })
        };
        serde_json::json!({
            "description": F::DESCRIPTION,
            "inputs": obj(&self.specs.inputs),
            "outputs": obj(&self.specs.outputs),
        })
    }

    fn invoke<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        args: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<Result<PropertyMap, Vec<CheckFailure>>, ResourceError>> {
        Box::pin(async move {
            let failures = validate_object(args, &self.specs.inputs, &self.specs.types);
            if !failures.is_empty() {
                return Ok(Err(failures));
            }
            let (typed, _) = match decode::<F::Args>(args) {
                Ok(d) => d,
                Err(f) => return Ok(Err(vec![f])),
            };
            let mut failures = Failures::default();
            self.inner.check(&typed, &mut failures);
            if !failures.is_empty() {
                return Ok(Err(failures.into_vec()));
            }
            let result = self.inner.invoke(ctx, typed).await?;
            // Secret results stay wrapped: neither the engine nor the SDKs mark function results
            // secret from the schema (they do so only for resource outputs), so a result that
            // drops its wrapper reaches the program, and its stack outputs, in plain text.
            Ok(Ok(encode(&result, &SecretPaths::new())?))
        })
    }
}

/// The dynamic face of a component.
pub trait DynComponent<C>: Send + Sync {
    fn token(&self) -> &'static str;
    fn specs(&self) -> &Specs;
    fn schema_json(&self) -> Json;
    /// Every problem with the inputs: wire types first, then the component's own checks.
    fn check(&self, inputs: &PropertyMap) -> Vec<CheckFailure>;
    /// The component's backend checks of inputs that passed `check`.
    fn check_live<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        inputs: &'a PropertyMap,
    ) -> BoxFuture<'a, Vec<CheckFailure>>;
    /// Register the children through `registrar` and return the component's outputs.
    fn construct<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        registrar: &'a dyn Registrar,
        inputs: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<PropertyMap, ResourceError>>;
}

/// A typed component with its derived specs.
pub struct TypedComponent<K, C> {
    inner: K,
    config: PhantomData<fn() -> C>,
    specs: Specs,
}

impl<C: Send + Sync + 'static, K: Component<C>> TypedComponent<K, C> {
    pub fn new(inner: K) -> Self {
        TypedComponent {
            inner,
            config: PhantomData,
            specs: Specs::derive::<K::Inputs, K::Outputs>(K::TOKEN),
        }
    }
}

impl<C: Send + Sync + 'static, K: Component<C>> DynComponent<C> for TypedComponent<K, C> {
    fn token(&self) -> &'static str {
        K::TOKEN
    }

    fn specs(&self) -> &Specs {
        &self.specs
    }

    fn schema_json(&self) -> Json {
        let mut json = resource_json(K::DESCRIPTION, &self.specs.inputs, &self.specs.outputs);
        if let Some(obj) = json.as_object_mut() {
            obj.insert("isComponent".into(), Json::Bool(true));
        }
        json
    }

    fn check(&self, inputs: &PropertyMap) -> Vec<CheckFailure> {
        let failures = validate_object(inputs, &self.specs.inputs, &self.specs.types);
        if !failures.is_empty() {
            return failures;
        }
        let typed = match decode::<K::Inputs>(inputs) {
            Ok((typed, _)) => typed,
            // A whole object still unknown: judged once it is known.
            Err(_) if contains_unknowns(inputs) => return Vec::new(),
            Err(f) => return vec![f],
        };
        let mut failures = Failures::default();
        self.inner.check(&typed, &mut failures);
        failures.into_vec()
    }

    fn check_live<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        inputs: &'a PropertyMap,
    ) -> BoxFuture<'a, Vec<CheckFailure>> {
        Box::pin(async move {
            let Ok((decoded, _)) = decode::<K::Inputs>(inputs) else {
                return Vec::new();
            };
            let mut failures = Failures::default();
            self.inner.check_live(ctx, &decoded, &mut failures).await;
            failures.into_vec()
        })
    }

    fn construct<'a>(
        &'a self,
        ctx: &'a Ctx<C>,
        registrar: &'a dyn Registrar,
        inputs: &'a PropertyMap,
    ) -> BoxFuture<'a, Result<PropertyMap, ResourceError>> {
        Box::pin(async move {
            let (typed, secrets) = match decode::<K::Inputs>(inputs) {
                Ok(decoded) => decoded,
                // Inputs too unknown for the component's types (a whole object from an output
                // not known yet): a preview can only say that every output is unknown.
                Err(_) if ctx.preview() && contains_unknowns(inputs) => {
                    let unknown = PropertyValue::Unknown(UnknownKind::String);
                    return Ok(self
                        .specs
                        .outputs
                        .properties
                        .keys()
                        .map(|k| (k.clone(), unknown.clone()))
                        .collect());
                }
                Err(f) => {
                    return Err(ResourceError::InvalidInput {
                        property: f.property,
                        reason: f.reason,
                    });
                }
            };
            let map = construct_typed(&self.inner, ctx, registrar, typed, secrets).await?;
            require_known(ctx, &map)?;
            Ok(map)
        })
    }
}
