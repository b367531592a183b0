//! The workspace catalog: finds table folders, validates their Parquet files and
//! registers each folder as a SQL table.
//!
//! Every file is checked before any query runs: a file whose columns do not match the
//! core table it belongs to is an error naming the file and the column. A file whose
//! footer cannot be read (truncated, overwritten) makes only its table unreadable: the
//! workspace opens with a warning, commands that do not read that table work, and any
//! query that reads it fails naming the file. Core tables missing from the workspace are registered empty (with
//! their schema), so queries and scoring work on a workspace with zero rows; other
//! folders of Parquet files become tables with the schema their files declare.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use datafusion::prelude::SessionContext;

use leadql_models::RuleModel;
use leadql_models::policy::Policy;
use leadql_models::store::ModelStore;
use leadql_udfs::deferred::DeferredTable;
use leadql_udfs::predictive::PredictiveModels;
use leadql_udfs::qualification::Policies;
use leadql_udfs::scoring::RuleModels;

use crate::error::{Error, Result};
use crate::schema::{self, Table};

/// A table found in the workspace.
#[derive(Debug, Clone)]
pub struct TableEntry {
    /// SQL name (the folder name).
    pub name: String,
    /// Its Parquet files, sorted by name.
    pub files: Vec<PathBuf>,
    /// Rows, from the file footers.
    pub rows: u64,
    /// The schema it is registered with.
    pub schema: SchemaRef,
    /// Whether it is one of the core tables of [`schema::CORE_TABLES`].
    pub core: bool,
    /// Its files whose footer cannot be read, with the decoder's explanation: reading
    /// the table is an error naming the first.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// The listing URL of the file at `path` (absolute), taken literally: `[`, `*` and `?`
/// in a folder's name are characters, not a glob (`ListingTableUrl::parse` would read
/// them as one, and a plan sent to a cluster keeps the URL without the glob).
pub fn file_url(path: &Path) -> datafusion::error::Result<ListingTableUrl> {
    let url = url::Url::from_file_path(path).map_err(|()| {
        datafusion::error::DataFusionError::Plan(format!(
            "{} is not an absolute file path",
            path.display()
        ))
    })?;
    ListingTableUrl::try_new(url, None)
}

/// A validated workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace directory.
    pub dir: PathBuf,
    /// Its tables, core tables first.
    pub tables: Vec<TableEntry>,
    /// Its rule scoring models (`scoring/*.toml`), invalid ones with their error.
    pub rule_models: Arc<RuleModels>,
    /// Its trained predictive models (`models/NAME/vN.json`).
    pub predictive_models: Arc<PredictiveModels>,
    /// Its qualification policies (`policies/*.toml`), invalid ones with their error.
    pub policies: Arc<Policies>,
    /// Its views (`views/NAME.sql`): name, file and SELECT text.
    pub views: Vec<(String, PathBuf, String)>,
    /// When set, sessions see the workspace as it was known strictly before this
    /// instant (µs since the epoch; see [`crate::known_at`]).
    pub known_at: Option<i64>,
}

impl Workspace {
    /// Opens and validates the workspace in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let _recovered = crate::commit::recover(dir)?;
        let meta = fs::metadata(dir).map_err(|e| Error::Workspace {
            dir: dir.to_path_buf(),
            reason: format!("cannot open the directory ({e})"),
        })?;
        if !meta.is_dir() {
            return Err(Error::Workspace {
                dir: dir.to_path_buf(),
                reason: "not a directory".into(),
            });
        }
        if !dir.join(schema::LEADS.name).is_dir() {
            return Err(Error::Workspace {
                dir: dir.to_path_buf(),
                reason: "not a leadql workspace: it has no leads/ folder (create one with `leadql generate --data DIR`)".into(),
            });
        }
        let dir = fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
        let mut tables = Vec::new();
        for table in schema::CORE_TABLES {
            let files = parquet_files(&dir.join(table.name))?;
            tables.push(core_entry(table, files)?);
        }
        let mut others: Vec<PathBuf> = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !is_hidden(&name) && schema::core_table(&name).is_none() {
                // `leads.bak` would be read as table `bak` of schema `leads` and lock
                // every command out: only folders named like SQL tables are tables.
                if is_table_name(&name) {
                    others.push(entry.path());
                } else if !parquet_files(&entry.path())?.is_empty() {
                    eprintln!(
                        "warning: folder {} ignored: '{name}' is not a table name (letters, digits and _)",
                        entry.path().display()
                    );
                }
            }
        }
        others.sort();
        for folder in others {
            let files = parquet_files(&folder)?;
            if files.is_empty() {
                continue;
            }
            let name = folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            tables.push(other_entry(name, files)?);
        }
        for t in tables.iter().filter(|t| !t.unreadable.is_empty()) {
            for (file, reason) in &t.unreadable {
                eprintln!(
                    "warning: table {}: {} is not a readable Parquet file ({reason}); queries that read the table fail",
                    t.name,
                    file.display()
                );
            }
        }
        let default_as_of = read_default_as_of(&dir)?;
        let rule_models = Arc::new(load_rule_models(&dir, default_as_of)?);
        let predictive_models = Arc::new(PredictiveModels::with_as_of(
            ModelStore::new(dir.join("models")),
            default_as_of,
        ));
        let policies = Arc::new(load_policies(&dir)?);
        let views = load_views(&dir)?;
        Ok(Workspace {
            dir,
            tables,
            rule_models,
            predictive_models,
            policies,
            views,
            known_at: None,
        })
    }

    /// The workspace as it was known at `t`: sessions see only what existed strictly
    /// before `t`, score and qualify at `t` by default, and models trained in them
    /// record `t` as what they knew.
    pub fn known_at(mut self, t: i64) -> Result<Self> {
        self.rule_models = Arc::new(load_rule_models(&self.dir, Some(t))?);
        self.predictive_models = Arc::new(PredictiveModels::with_as_of(
            ModelStore::new(self.dir.join("models")),
            Some(t),
        ));
        self.known_at = Some(t);
        Ok(self)
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&TableEntry> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Registers every table in `ctx`.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        for t in &self.tables {
            let provider: Arc<dyn datafusion::catalog::TableProvider> =
                if let Some((file, reason)) = t.unreadable.first() {
                    unreadable_table(t.schema.clone(), file.clone(), reason.clone())
                } else if t.files.is_empty() {
                    Arc::new(MemTable::try_new(t.schema.clone(), vec![vec![]])?)
                } else {
                    let urls = t
                        .files
                        .iter()
                        .map(|f| file_url(f))
                        .collect::<datafusion::error::Result<Vec<_>>>()?;
                    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                        .with_file_extension(".parquet");
                    let config = ListingTableConfig::new_with_multi_paths(urls)
                        .with_listing_options(options)
                        .with_schema(t.schema.clone());
                    Arc::new(ListingTable::try_new(config)?)
                };
            ctx.register_table(
                datafusion::common::TableReference::bare(t.name.as_str()),
                provider,
            )?;
        }
        if let Some(t) = self.known_at {
            crate::known_at::register(ctx, t)?;
        }
        // Merged leads' rows count for their masters (only while any merge is in
        // force: otherwise the tables are read directly).
        if let Some(t) = self
            .table(crate::schema::LEAD_MERGES.name)
            .filter(|t| !t.files.is_empty())
        {
            let merges = crate::merge::read_in_force(&t.files, self.known_at)?;
            if !merges.is_empty() {
                crate::merge::register_identity(ctx, &merges)?;
            }
        }
        leadql_udfs::register_scoring(ctx, self.rule_models.clone());
        leadql_udfs::register_predictive(ctx, self.predictive_models.clone());
        leadql_udfs::register_qualification(ctx, self.policies.clone(), self.rule_models.clone());
        leadql_udfs::register_point_in_time(
            ctx,
            self.rule_models.clone(),
            self.predictive_models.clone(),
        );
        Ok(())
    }
}

/// A table that fails when read, naming its unreadable file (planning, and so views
/// over it, still work).
fn unreadable_table(
    schema: SchemaRef,
    file: PathBuf,
    reason: String,
) -> Arc<dyn datafusion::catalog::TableProvider> {
    DeferredTable::new(
        schema,
        Box::new(move |_state| {
            let error = Error::UnreadableParquet {
                file: file.clone(),
                reason: reason.clone(),
            };
            Box::pin(async move { Err(error.into()) })
        }),
    )
}

/// The `[workspace] as_of` instant of `workspace.toml` (µs since the epoch), if set.
fn read_default_as_of(dir: &Path) -> Result<Option<i64>> {
    let path = dir.join("workspace.toml");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let bad = |reason: String| Error::Workspace {
        dir: path.clone(),
        reason,
    };
    let value: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
    let Some(as_of) = value.get("workspace").and_then(|w| w.get("as_of")) else {
        return Ok(None);
    };
    let text = as_of.as_str().ok_or_else(|| {
        bad("[workspace] as_of must be a string such as \"2026-06-30 00:00:00\"".into())
    })?;
    let instant =
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").map_err(|e| {
            bad(format!(
                "[workspace] as_of '{text}' is not a 'YYYY-MM-DD HH:MM:SS' instant ({e})"
            ))
        })?;
    Ok(Some(instant.and_utc().timestamp_micros()))
}

/// Loads every `scoring/*.toml` rule model; invalid files are kept with their error.
pub(crate) fn load_rule_models(dir: &Path, default_as_of: Option<i64>) -> Result<RuleModels> {
    let mut models = RuleModels::new(default_as_of).read_from(dir);
    let folder = dir.join("scoring");
    if !folder.is_dir() {
        return Ok(models);
    }
    let mut files: Vec<PathBuf> = fs::read_dir(&folder)
        .map_err(|e| Error::io(&folder, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for file in files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if is_hidden(&name) {
            continue;
        }
        let text = fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        let label = file.display().to_string();
        // Predicates are checked once, here: a malformed one makes the model invalid.
        let model = RuleModel::parse(&name, &label, &text)
            .and_then(|m| leadql_udfs::predicate::check_rule_model(&m).map(|()| m));
        models.insert(name.clone(), model);
    }
    Ok(models)
}

/// The visible files of `folder` with extension `ext`, sorted, with their stems.
fn files_with(folder: &Path, ext: &str) -> Result<Vec<(String, PathBuf)>> {
    if !folder.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<(String, PathBuf)> = fs::read_dir(folder)
        .map_err(|e| Error::io(folder, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == ext))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (!is_hidden(&stem)).then_some((stem, p))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Loads every `policies/*.toml`; invalid files are kept with their error.
fn load_policies(dir: &Path) -> Result<Policies> {
    let mut policies = Policies::new();
    for (name, file) in files_with(&dir.join("policies"), "toml")? {
        let text = fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        let label = file.display().to_string();
        let policy = Policy::parse(&name, &label, &text)
            .and_then(|p| leadql_udfs::predicate::check_policy(&p).map(|()| p));
        policies.insert(name.clone(), policy);
    }
    Ok(policies)
}

/// Reads every `views/*.sql` (one SELECT each; a trailing `;` is allowed).
fn load_views(dir: &Path) -> Result<Vec<(String, PathBuf, String)>> {
    let mut views = Vec::new();
    for (name, file) in files_with(&dir.join("views"), "sql")? {
        let text = fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        let text = text.trim().trim_end_matches(';').trim().to_string();
        views.push((name, file, text));
    }
    Ok(views)
}

fn is_table_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

/// The visible `*.parquet` files of a folder, sorted (an absent folder has none).
fn parquet_files(folder: &Path) -> Result<Vec<PathBuf>> {
    if !folder.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).map_err(|e| Error::io(folder, e))? {
        let entry = entry.map_err(|e| Error::io(folder, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_hidden(&name) && name.ends_with(".parquet") && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a file's footer: its Arrow schema and row count.
pub fn read_footer(file: &Path) -> Result<(SchemaRef, u64)> {
    let f = File::open(file).map_err(|e| Error::io(file, e))?;
    let meta = ArrowReaderMetadata::load(&f, ArrowReaderOptions::new()).map_err(|e| {
        Error::UnreadableParquet {
            file: file.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    let rows = meta.metadata().file_metadata().num_rows().max(0) as u64;
    Ok((meta.schema().clone(), rows))
}

/// The footer of `file`, or `None` (recorded in `unreadable`) when it cannot be read.
fn readable_footer(
    file: &Path,
    unreadable: &mut Vec<(PathBuf, String)>,
) -> Result<Option<(SchemaRef, u64)>> {
    match read_footer(file) {
        Ok(footer) => Ok(Some(footer)),
        Err(Error::UnreadableParquet { file, reason }) => {
            unreadable.push((file, reason));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn core_entry(table: &'static Table, files: Vec<PathBuf>) -> Result<TableEntry> {
    let mut rows = 0;
    let mut extras: Vec<Field> = Vec::new();
    let mut unreadable = Vec::new();
    for file in &files {
        let Some((found, n)) = readable_footer(file, &mut unreadable)? else {
            continue;
        };
        rows += n;
        for column in table.columns {
            let field = found
                .field_with_name(column.name)
                .map_err(|_| Error::MissingColumn {
                    file: file.clone(),
                    table: table.name.into(),
                    column: column.name.into(),
                    expected: column.kind.label().into(),
                })?;
            if !column.kind.accepts(field.data_type()) {
                return Err(Error::ColumnType {
                    file: file.clone(),
                    table: table.name.into(),
                    column: column.name.into(),
                    expected: column.kind.label().into(),
                    found: field.data_type().to_string(),
                });
            }
        }
        for field in found.fields() {
            if table.column(field.name()).is_none()
                && !extras.iter().any(|f| f.name() == field.name())
            {
                extras.push(field.as_ref().clone().with_nullable(true));
            }
        }
    }
    let mut fields = table.fields();
    fields.extend(extras);
    Ok(TableEntry {
        name: table.name.into(),
        files,
        rows,
        schema: Arc::new(Schema::new(fields)),
        core: true,
        unreadable,
    })
}

fn other_entry(name: String, files: Vec<PathBuf>) -> Result<TableEntry> {
    let mut rows = 0;
    let mut merged: Option<Schema> = None;
    let mut unreadable = Vec::new();
    for file in &files {
        let Some((found, n)) = readable_footer(file, &mut unreadable)? else {
            continue;
        };
        rows += n;
        let found = Schema::new(found.fields().clone());
        merged = Some(match merged {
            None => found,
            Some(m) => Schema::try_merge([m, found]).map_err(|e| Error::ColumnType {
                file: file.clone(),
                table: name.clone(),
                column: "(schema)".into(),
                expected: "the same columns as the table's other files".into(),
                found: e.to_string(),
            })?,
        });
    }
    let schema = Arc::new(merged.unwrap_or_else(Schema::empty));
    Ok(TableEntry {
        name,
        files,
        rows,
        schema,
        core: false,
        unreadable,
    })
}

/// Whether `dir` does not exist or is an empty directory (where `generate` may write
/// without `--force`, and where an import creates a new workspace).
pub fn new_or_empty(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        // The lock file of the writer checking (generate locks first) does not count.
        Ok(mut entries) => Ok(!entries.any(|e| {
            e.map_or(true, |e| {
                e.file_name().to_string_lossy() != crate::lock::LOCK_FILE
            })
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(Error::io(dir, e)),
    }
}
