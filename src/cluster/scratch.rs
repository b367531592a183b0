//! Rows the client computed, kept where the cluster reads them.
//!
//! Some of a plan's tables are rows the client holds in memory: the rows of a table
//! function leadql computes itself (the `(lead, instant)` pairs behind `predict` and
//! `qualify_leads` with a point-in-time model, a backtest's rows, …) and
//! `DataFrame::cache` results. Sent inside the plan, such a table travels to the
//! scheduler and then, with its stage's plan, to every task of the stage: 16 tasks of
//! a stage that reads 5 MiB of pairs three times move 240 MiB. So a table larger than
//! [`INLINE_BYTES`] is written once as Parquet under the workspace's
//! `.leadql-cluster/` folder, which every machine of the cluster sees at the same path,
//! and the plan reads it from there like any other Parquet table: only its path
//! travels, and each task reads only its part. Smaller tables stay inside the plan.
//!
//! The files of a query are removed when its result has been read (or dropped); a
//! client that dies leaves its folder, which the next client removes after a day.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::common::{Result, exec_datafusion_err};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

/// In-memory tables up to this size travel inside the plan; larger ones as Parquet.
pub const INLINE_BYTES: usize = 1 << 20;

/// The folder of the workspace where clients keep the Parquet files of their queries.
pub const FOLDER: &str = ".leadql-cluster";

/// A query's folder older than this is left over by a client that died.
const STALE: Duration = Duration::from_secs(24 * 3600);

/// Where and from what size a client writes its in-memory tables for the cluster.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// The folder under which each query gets its own (`WORKSPACE/.leadql-cluster`).
    pub dir: PathBuf,
    /// Tables up to this many bytes stay inside the plan.
    pub inline_bytes: usize,
}

impl Scratch {
    /// The scratch folder of the workspace in `workspace` (an absolute path that every
    /// machine of the cluster sees), with tables above [`INLINE_BYTES`] written there.
    pub fn in_workspace(workspace: &Path) -> Self {
        Scratch {
            dir: workspace.join(FOLDER),
            inline_bytes: INLINE_BYTES,
        }
    }

    /// Removes the query folders a client that died left behind (older than a day).
    pub fn remove_stale(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE);
            if old {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// A query's folder of Parquet files, removed when the last holder lets go.
#[derive(Debug)]
pub struct QueryFiles {
    dir: PathBuf,
    tables: usize,
    bytes: u64,
}

impl Drop for QueryFiles {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A unique folder name for a query of this process.
fn query_folder() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "q-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The in-memory table's partitions, or None when one is being written.
fn partitions(mem: &MemTable) -> Option<Vec<Vec<RecordBatch>>> {
    mem.batches
        .iter()
        .map(|p| p.try_read().ok().map(|b| b.clone()))
        .collect()
}

fn size(partitions: &[Vec<RecordBatch>]) -> usize {
    partitions
        .iter()
        .flatten()
        .map(|b| b.get_array_memory_size())
        .sum()
}

/// Writes `partitions` as one Parquet file each (empty ones left out) into `dir`.
fn write(
    dir: &Path,
    table: usize,
    schema: &SchemaRef,
    partitions: &[Vec<RecordBatch>],
) -> Result<(Vec<PathBuf>, u64)> {
    let props = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .build();
    let mut files = Vec::new();
    let mut bytes = 0;
    for (i, batches) in partitions.iter().enumerate() {
        if batches.iter().all(|b| b.num_rows() == 0) {
            continue;
        }
        let path = dir.join(format!("t{table}-p{i}.parquet"));
        let fail = |e: &dyn fmt::Display| {
            exec_datafusion_err!(
                "cannot write the cluster's copy of a computed table to {}: {e}",
                path.display()
            )
        };
        let file = fs::File::create(&path).map_err(|e| fail(&e))?;
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props.clone()))
            .map_err(|e| fail(&e))?;
        for b in batches {
            writer.write(b).map_err(|e| fail(&e))?;
        }
        writer.close().map_err(|e| fail(&e))?;
        bytes += fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        files.push(path);
    }
    Ok((files, bytes))
}

/// A Parquet table over `files`, with the in-memory table's schema.
fn parquet_table(files: &[PathBuf], schema: SchemaRef) -> Result<Arc<dyn TableProvider>> {
    let urls = files
        .iter()
        .map(|f| crate::catalog::file_url(f))
        .collect::<Result<Vec<_>>>()?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// An in-memory table's schema and partitions.
type Contents = (SchemaRef, Vec<Vec<RecordBatch>>);

/// Whether Parquet can hold columns of `t` (it has no union type).
fn parquet_can_hold(t: &DataType) -> bool {
    match t {
        DataType::Union(_, _) => false,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => parquet_can_hold(f.data_type()),
        DataType::Struct(fields) => fields.iter().all(|f| parquet_can_hold(f.data_type())),
        DataType::Dictionary(_, v) => parquet_can_hold(v),
        DataType::RunEndEncoded(_, v) => parquet_can_hold(v.data_type()),
        _ => true,
    }
}

/// `plan` with each in-memory table larger than the scratch's limit read from Parquet
/// written under it, and the query's files (None when none were written). Tables
/// with columns Parquet cannot hold stay inside the plan.
pub async fn spill(
    plan: LogicalPlan,
    scratch: &Scratch,
) -> Result<(LogicalPlan, Option<QueryFiles>)> {
    // The tables to write, each once however often the plan scans it.
    let mut large: Vec<(Arc<dyn TableProvider>, Contents)> = Vec::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && !large.iter().any(|(p, _)| Arc::ptr_eq(p, &provider))
            && let Some(mem) = provider.downcast_ref::<MemTable>()
            && let Some(parts) = partitions(mem)
            && size(&parts) > scratch.inline_bytes
            && mem
                .schema()
                .fields()
                .iter()
                .all(|f| parquet_can_hold(f.data_type()))
        {
            let schema = mem.schema();
            large.push((provider, (schema, parts)));
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    if large.is_empty() {
        return Ok((plan, None));
    }
    let dir = scratch.dir.join(query_folder());
    fs::create_dir_all(&dir).map_err(|e| {
        exec_datafusion_err!(
            "cannot create {} for the cluster's copies of computed tables (the workspace must be writable by the client): {e}",
            dir.display()
        )
    })?;
    // From here on the folder is removed whatever happens.
    let mut files = QueryFiles {
        dir,
        tables: 0,
        bytes: 0,
    };
    let (providers, contents): (Vec<_>, Vec<Contents>) = large.into_iter().unzip();
    // Writing is blocking file work: off the runtime's threads (an in-process
    // cluster's executors share them).
    let folder = files.dir.clone();
    let written = tokio::task::spawn_blocking(move || {
        contents
            .iter()
            .enumerate()
            .map(|(i, (schema, parts))| {
                write(&folder, i, schema, parts)
                    .map(|(paths, bytes)| (schema.clone(), paths, bytes))
            })
            .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|e| exec_datafusion_err!("writing the cluster's copies of computed tables: {e}"))??;
    let mut tables: Vec<(Arc<dyn TableProvider>, Arc<dyn TableProvider>)> = Vec::new();
    for (provider, (schema, paths, bytes)) in providers.into_iter().zip(written) {
        files.tables += 1;
        files.bytes += bytes;
        let table: Arc<dyn TableProvider> = if paths.is_empty() {
            Arc::new(MemTable::try_new(schema, vec![vec![]])?)
        } else {
            parquet_table(&paths, schema)?
        };
        tables.push((provider, table));
    }
    let plan = plan
        .transform_up_with_subqueries(|node| {
            let LogicalPlan::TableScan(mut scan) = node else {
                return Ok(Transformed::no(node));
            };
            let replacement = source_as_provider(&scan.source).ok().and_then(|p| {
                tables
                    .iter()
                    .find(|(m, _)| Arc::ptr_eq(m, &p))
                    .map(|(_, t)| t.clone())
            });
            match replacement {
                Some(table) => {
                    scan.source = provider_as_source(table);
                    Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
                }
                None => Ok(Transformed::no(LogicalPlan::TableScan(scan))),
            }
        })?
        .data;
    log::info!(
        "{} computed table(s) of this query, {} bytes of Parquet, go to the cluster from {}",
        files.tables,
        files.bytes,
        files.dir.display()
    );
    Ok((plan, Some(files)))
}

/// The cluster's plan, holding the query's files until its result has been read.
#[derive(Debug)]
pub struct WithFiles {
    inner: Arc<dyn ExecutionPlan>,
    files: Arc<QueryFiles>,
}

impl WithFiles {
    /// `inner`, keeping `files` as long as it or a stream of its result lives.
    pub fn new(inner: Arc<dyn ExecutionPlan>, files: QueryFiles) -> Arc<Self> {
        Arc::new(WithFiles {
            inner,
            files: Arc::new(files),
        })
    }
}

impl DisplayAs for WithFiles {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ComputedTablesAsParquet: tables={}, bytes={}, dir={}",
            self.files.tables,
            self.files.bytes,
            self.files.dir.display()
        )
    }
}

impl ExecutionPlan for WithFiles {
    fn name(&self) -> &str {
        "ComputedTablesAsParquet"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.inner]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(inner), true) => Ok(Arc::new(WithFiles {
                inner,
                files: self.files.clone(),
            })),
            _ => Err(exec_datafusion_err!(
                "ComputedTablesAsParquet takes exactly one child"
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let stream = self.inner.execute(partition, context)?;
        let files = self.files.clone();
        let schema = stream.schema();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            stream.map(move |b| {
                let _keep = &files;
                b
            }),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, UnionArray};
    use datafusion::arrow::datatypes::{Field, Schema, UnionFields};
    use datafusion::logical_expr::LogicalPlanBuilder;
    use datafusion::prelude::SessionContext;

    fn scan_twice(table: Arc<dyn TableProvider>) -> LogicalPlan {
        let source = provider_as_source(table);
        let left = LogicalPlanBuilder::scan("a", source.clone(), None)
            .and_then(|b| b.build())
            .expect("scan");
        LogicalPlanBuilder::scan("b", source, None)
            .and_then(|b| b.union(left))
            .and_then(|b| b.build())
            .expect("union")
    }

    fn numbers(n: i64) -> Arc<dyn TableProvider> {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let parts = (0..2)
            .map(|p| {
                vec![
                    RecordBatch::try_new(
                        schema.clone(),
                        vec![
                            Arc::new(Int64Array::from_iter_values((0..n).map(|i| i * 2 + p)))
                                as ArrayRef,
                        ],
                    )
                    .expect("batch"),
                ]
            })
            .collect();
        Arc::new(MemTable::try_new(schema, parts).expect("table"))
    }

    fn providers(plan: &LogicalPlan) -> Vec<String> {
        let mut out = Vec::new();
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                let p = source_as_provider(&scan.source).expect("provider");
                out.push(if p.is::<ListingTable>() {
                    "parquet".to_string()
                } else if p.is::<MemTable>() {
                    "memory".to_string()
                } else {
                    "other".to_string()
                });
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .expect("walk");
        out
    }

    #[tokio::test]
    async fn large_tables_become_parquet_once_and_go_with_their_files() {
        // `[`, `*` and `?` in the workspace's path are characters, not a glob.
        let root = tempfile::tempdir().expect("tempdir");
        let workspace = root.path().join("crm [eu]*?");
        fs::create_dir_all(&workspace).expect("mkdir");
        let scratch = Scratch {
            inline_bytes: 1000,
            ..Scratch::in_workspace(&workspace)
        };
        let (plan, files) = spill(scan_twice(numbers(10_000)), &scratch)
            .await
            .expect("spills");
        assert_eq!(providers(&plan), ["parquet", "parquet"]);
        let files = files.expect("files written");
        assert_eq!(files.tables, 1, "one copy for both scans");
        let dir = files.dir.clone();
        let written: Vec<_> = fs::read_dir(&dir).expect("folder").flatten().collect();
        assert_eq!(written.len(), 2, "one file per partition");
        let ctx = SessionContext::new();
        let rows: usize = ctx
            .execute_logical_plan(plan)
            .await
            .expect("plans")
            .collect()
            .await
            .expect("reads the files")
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(rows, 2 * 20_000);
        drop(files);
        assert!(!dir.exists(), "the query's folder is removed with it");

        // Small tables stay inside the plan; nothing is written.
        let (plan, files) = spill(scan_twice(numbers(10)), &scratch)
            .await
            .expect("inline");
        assert_eq!(providers(&plan), ["memory", "memory"]);
        assert!(files.is_none());
    }

    #[tokio::test]
    async fn tables_parquet_cannot_hold_stay_inside_the_plan() {
        let fields = UnionFields::try_new(
            vec![0, 1],
            vec![
                Field::new("i", DataType::Int64, false),
                Field::new("s", DataType::Utf8, false),
            ],
        )
        .expect("fields");
        let n = 5_000;
        let union = UnionArray::try_new(
            fields.clone(),
            vec![0i8; n].into(),
            None,
            vec![
                Arc::new(Int64Array::from_iter_values(0..n as i64)) as ArrayRef,
                Arc::new(datafusion::arrow::array::StringArray::from(vec!["x"; n])) as ArrayRef,
            ],
        )
        .expect("union");
        let schema = Arc::new(Schema::new(vec![Field::new(
            "u",
            DataType::Union(fields, datafusion::arrow::datatypes::UnionMode::Sparse),
            false,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(union)]).expect("batch");
        let table = Arc::new(MemTable::try_new(schema, vec![vec![batch]]).expect("table"));
        let root = tempfile::tempdir().expect("tempdir");
        let scratch = Scratch {
            inline_bytes: 0,
            ..Scratch::in_workspace(root.path())
        };
        let (plan, files) = spill(scan_twice(table), &scratch).await.expect("spill");
        assert_eq!(providers(&plan), ["memory", "memory"]);
        assert!(files.is_none());
    }
}
