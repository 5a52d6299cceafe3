//! Manifests → `Desired`: reading, defaulting and validating Kubernetes
//! objects. Pure: the texts come from `sources`, the result goes to the loop.
//!
//! Every document is parsed into a located tree (`tree`), read into wire
//! structs through a deserializer that knows where each value was written
//! (`de`), then converted to the model with Kubernetes' defaults and
//! validation rules (`objects`, `pod`). All errors of all files are collected,
//! each as `file:line:col: field: message`.

mod api_validation;
mod autoscale;
mod bare;
mod batch;
pub mod de;
mod dependencies;
mod fields;
pub mod immutable;
mod objects;
mod pod;
pub mod schema;
mod screen;
mod strict;
pub mod tree;

pub use objects::{HOSTNAME_LABEL, JOB_NAME_LABEL};
pub use pod::parse_duration;
pub use screen::{SCREEN, one_screen};
mod wire;

use crate::model::pod::PodSpec;
use crate::model::workload::{Desired, SourceLocation};
use crate::sources::Source;
use std::fmt;
use tree::Node;

#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Unknown kinds are errors instead of notices.
    pub strict: bool,
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub desired: Desired,
    /// Things skipped (warnings), each located.
    pub notices: Vec<Diagnostic>,
}

/// One problem in one manifest, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The field path in the object (`spec.template.spec.containers[0].resources`); empty for syntax errors.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Where errors about one object go: its file, its tree, the shared list.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub root: &'a Node,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        let node = self.root.locate(path);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_string(),
            line: node.line as usize,
            column: node.column as usize,
            field: path.to_string(),
            message: message.into(),
        });
    }

    pub fn de_error(&mut self, error: de::Error) {
        self.diagnostics.push(Diagnostic {
            file: self.file.to_string(),
            line: error.line,
            column: error.column,
            field: error.path.clone(),
            message: error.message.clone(),
        });
    }

    /// Read a wire struct from the node at `path`, reporting a failure.
    pub fn read<'n, T: serde::Deserialize<'n>>(&mut self, node: &'n Node, path: &str) -> Option<T> {
        match de::from_node(node, path) {
            Ok(value) => Some(value),
            Err(error) => {
                self.de_error(error);
                None
            }
        }
    }

    pub fn location(&self, path: &str) -> String {
        self.source(path).to_string()
    }

    pub fn source(&self, path: &str) -> SourceLocation {
        let node = self.root.locate(path);
        SourceLocation {
            file: self.file.to_string(),
            line: node.line as usize,
            column: node.column as usize,
        }
    }
}

/// Every source's YAML documents with the file they come from (parsed on
/// all cores), and a located diagnostic for each text that is not YAML.
pub fn documents(sources: &[Source]) -> (Vec<(&str, Node)>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut documents: Vec<(&str, Node)> = Vec::new();
    for (source, parsed) in sources.iter().zip(parse_texts(sources)) {
        match parsed {
            Ok(docs) => documents.extend(docs.into_iter().map(|d| (source.name.as_str(), d))),
            Err((line, column, message)) => diagnostics.push(Diagnostic {
                file: source.name.clone(),
                line,
                column,
                field: String::new(),
                message,
            }),
        }
    }
    (documents, diagnostics)
}

/// Parse, default and validate every source; all errors or the desired state.
pub fn parse(sources: &[Source], options: &ParseOptions) -> Result<Loaded, Vec<Diagnostic>> {
    let (documents, diagnostics) = documents(sources);
    build(&documents, diagnostics, options, true).map_err(|errors| templates_named(sources, errors))
}

/// A file that fails and holds Go template actions (`{{ … }}`) is a Helm
/// template, not a manifest: its errors become one, naming the command
/// that renders it, instead of the parser's view of template syntax.
fn templates_named(sources: &[Source], errors: Vec<Diagnostic>) -> Vec<Diagnostic> {
    // Each failing file is looked at once, however many errors it has.
    let mut templates: std::collections::HashMap<&str, Option<(usize, usize)>> =
        std::collections::HashMap::new();
    let mut named: Vec<Diagnostic> = Vec::new();
    let mut reported: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for error in errors {
        let action = match templates.get(error.file.as_str()) {
            Some(action) => *action,
            None => {
                let source = sources.iter().find(|s| s.name == error.file);
                let action = source.and_then(|s| template_action(&s.text));
                if let Some(source) = source {
                    templates.insert(source.name.as_str(), action);
                }
                action
            }
        };
        let Some((line, column)) = action else {
            named.push(error);
            continue;
        };
        let Some(source) = sources.iter().find(|s| s.name == error.file) else {
            continue;
        };
        if reported.insert(source.name.as_str()) {
            named.push(Diagnostic {
                file: source.name.clone(),
                line,
                column,
                field: String::new(),
                message: "a Helm (Go) template, not a manifest: render it first with `helm template RELEASE CHART > rendered.yaml` (or `kubectl kustomize DIR` for a kustomization) and give orch the rendered file".into(),
            });
        }
    }
    named
}

/// Where the first `{{` outside a comment is (1-based line and column).
fn template_action(text: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let code = line.split(" #").next().unwrap_or(line);
        if code.trim_start().starts_with('#') {
            return None;
        }
        code.find("{{").map(|column| (i + 1, column + 1))
    })
}

/// Objects orch stored itself (workload specs in the state), read without a
/// text round trip; `name` says where each came from in diagnostics.
pub fn parse_stored<'a>(
    objects: impl IntoIterator<Item = (&'a str, serde_json::Value)>,
    options: &ParseOptions,
) -> Result<Loaded, Vec<Diagnostic>> {
    let documents: Vec<(&str, Node)> = objects
        .into_iter()
        .map(|(name, value)| (name, Node::from_json(&value)))
        .collect();
    // They were validated when applied; they have no positions to report.
    build(&documents, Vec::new(), options, false)
}

fn build(
    documents: &[(&str, Node)],
    mut diagnostics: Vec<Diagnostic>,
    options: &ParseOptions,
    strict_schema: bool,
) -> Result<Loaded, Vec<Diagnostic>> {
    let mut builder = objects::Builder::new(options.strict);
    for (file, document) in documents {
        let typed_from = diagnostics.len();
        builder.document(file, document, &mut diagnostics);
        if strict_schema {
            strict::check_document(file, document, &mut diagnostics, typed_from);
        }
    }
    let (desired, notices) = builder.finish(&mut diagnostics);
    if diagnostics.is_empty() {
        Ok(Loaded { desired, notices })
    } else {
        Err(diagnostics)
    }
}

type Parsed = Result<Vec<Node>, (usize, usize, String)>;

/// Every source's documents, in order; large sets of files are parsed on all
/// cores (largest first), since YAML parsing dominates reading a big fleet.
fn parse_texts(sources: &[Source]) -> Vec<Parsed> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(sources.len());
    let total: usize = sources.iter().map(|s| s.text.len()).sum();
    if threads <= 1 || total < 1 << 20 {
        return sources.iter().map(parse_source).collect();
    }
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sources[i].text.len()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, Parsed)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = order.get(k) else {
                            return done;
                        };
                        done.push((i, parse_source(&sources[i])));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a parsing thread panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, parsed)| parsed).collect()
}

/// One source's documents; a `.json` file must be JSON, which YAML's flow
/// syntax (a trailing comma, unquoted keys) would otherwise let through.
fn parse_source(source: &Source) -> Parsed {
    if source.name.ends_with(".json")
        && let Some(error) = strict::json_syntax(&source.text)
    {
        return Err(error);
    }
    tree::parse_documents(&source.text)
}

/// The scheduling view of a stored pod template (one that was valid when applied).
pub fn pod_spec_from_template(
    namespace: &str,
    template: &serde_json::Value,
) -> Result<PodSpec, Vec<Diagnostic>> {
    let root = Node::from_json(template);
    let mut diagnostics = Vec::new();
    let mut ctx = Ctx {
        file: "<stored template>",
        root: &root,
        diagnostics: &mut diagnostics,
    };
    let spec = ctx
        .read::<wire::PodTemplateSpec>(&root, "")
        .map(|template| pod::pod_spec(&mut ctx, "", namespace, &template, &Default::default()));
    match spec {
        Some(spec) if diagnostics.is_empty() => Ok(spec),
        _ => Err(diagnostics),
    }
}

#[cfg(test)]
mod tests;
