//! How leadql's plans travel to a cluster: Ballista's plan codecs, plus
//!
//! - leadql's SQL functions: those that need no workspace are rebuilt by name on the
//!   receiving machine; the workspace-bound ones (`predict_score`, `lead_grade`, …)
//!   carry their [`Binding`] (workspace folder, instant, model versions), and the
//!   receiving machine reads the models from the shared workspace itself;
//! - in-memory tables (a table function's rows computed by the client, an empty table
//!   of the workspace), as Arrow IPC.
//!
//! Any other table provider is refused with an error naming the table.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::{Result, TableReference, exec_datafusion_err, plan_datafusion_err};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use leadql_models::store::ModelStore;
use leadql_udfs::predictive::PredictiveModels;
use leadql_udfs::scoring::RuleModels;
use leadql_udfs::workspace_bound::{self, Binding};

/// Ballista's logical codec with leadql's functions and in-memory tables.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

/// Ballista's physical codec with leadql's functions.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

/// A function's payload: its binding as JSON (empty for functions that need no
/// workspace).
fn encode_udf(udf: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
    let Some(b) = workspace_bound::binding(udf)? else {
        return Ok(());
    };
    let json = serde_json::json!({
        "workspace": b.workspace.to_string_lossy(),
        "as_of": b.as_of,
        "pins": b.pins,
    });
    serde_json::to_writer(buf, &json).map_err(|e| exec_datafusion_err!("{}: {e}", udf.name()))
}

/// The function `name` rebuilt from its payload on this machine.
fn decode_udf(name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
    if buf.is_empty() {
        return workspace_bound::standalone(name).ok_or_else(|| {
            plan_datafusion_err!(
                "no SQL function named '{name}' on this machine of the cluster (leadql's functions are on the scheduler and executors started with `leadql scheduler` and `leadql executor`)"
            )
        });
    }
    let binding = parse_binding(name, buf)?;
    let (rules, predictive) = models(name, &binding)?;
    workspace_bound::bind(name, &rules, &predictive)
        .ok_or_else(|| plan_datafusion_err!("'{name}' is no workspace-bound function of leadql"))
}

fn parse_binding(name: &str, buf: &[u8]) -> Result<Binding> {
    #[derive(serde::Deserialize)]
    struct Payload {
        workspace: PathBuf,
        as_of: Option<i64>,
        pins: BTreeMap<String, u32>,
    }
    let p: Payload = serde_json::from_slice(buf)
        .map_err(|e| plan_datafusion_err!("{name}: unreadable function payload ({e})"))?;
    if !p.workspace.is_absolute() {
        return Err(plan_datafusion_err!(
            "{name}: the workspace {} is not an absolute path",
            p.workspace.display()
        ));
    }
    Ok(Binding {
        workspace: p.workspace,
        as_of: p.as_of,
        pins: p.pins,
    })
}

/// The workspace's models as `binding` sees them, read from the workspace each time a
/// plan is decoded (once per task): a version number is not a content identity (a
/// dropped and retrained model starts again at v1), so nothing is kept across plans.
fn models(name: &str, binding: &Binding) -> Result<(Arc<RuleModels>, Arc<PredictiveModels>)> {
    let dir = &binding.workspace;
    if !dir.is_dir() {
        return Err(plan_datafusion_err!(
            "the workspace {} is not readable on this machine of the cluster: a cluster needs the workspace at the same path on every machine (a shared filesystem)",
            dir.display()
        ));
    }
    // Only the functions that grade read the rule models (parsed and checked from
    // TOML): the predictive ones get an empty set.
    let rules = if workspace_bound::MODEL_ARGUMENT.contains(&name) {
        Arc::new(RuleModels::new(binding.as_of))
    } else {
        Arc::new(
            crate::catalog::load_rule_models(dir, binding.as_of)
                .map_err(|e| plan_datafusion_err!("{e}"))?,
        )
    };
    let predictive = Arc::new(
        PredictiveModels::with_as_of(ModelStore::new(dir.join("models")), binding.as_of)
            .with_pins(binding.pins.clone()),
    );
    Ok((rules, predictive))
}

/// An in-memory table's partitions as Arrow IPC: the number of partitions, then
/// each partition as a length-prefixed IPC stream.
fn encode_memory(table: &TableReference, mem: &MemTable, buf: &mut Vec<u8>) -> Result<()> {
    buf.extend_from_slice(&(mem.batches.len() as u32).to_le_bytes());
    for partition in &mem.batches {
        let batches = partition.try_read().map_err(|_| {
            exec_datafusion_err!("table '{table}' is being written and cannot be sent")
        })?;
        let mut stream = Vec::new();
        {
            let mut writer = StreamWriter::try_new(&mut stream, &mem.schema())?;
            for b in batches.iter() {
                writer.write(b)?;
            }
            writer.finish()?;
        }
        buf.extend_from_slice(&(stream.len() as u64).to_le_bytes());
        buf.extend_from_slice(&stream);
    }
    Ok(())
}

fn decode_memory(table: &TableReference, buf: &[u8], schema: SchemaRef) -> Result<MemTable> {
    let bad = || plan_datafusion_err!("table '{table}': truncated in-memory table payload");
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let end = at
            .checked_add(n)
            .filter(|e| *e <= buf.len())
            .ok_or_else(bad)?;
        let s = &buf[at..end];
        at = end;
        Ok(s)
    };
    let count = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad())?) as usize;
    // Each partition takes at least its 8-byte length: a count the payload cannot
    // hold is refused before anything is allocated for it.
    if count > (buf.len() - 4) / 8 {
        return Err(bad());
    }
    let mut partitions = Vec::with_capacity(count);
    for _ in 0..count {
        let len = u64::from_le_bytes(take(8)?.try_into().map_err(|_| bad())?) as usize;
        let reader = StreamReader::try_new(Cursor::new(take(len)?), None)?;
        let batches = reader.collect::<std::result::Result<Vec<RecordBatch>, _>>()?;
        partitions.push(batches);
    }
    MemTable::try_new(schema, partitions)
}

/// The kind of a table provider, for errors (its type as Debug prints it).
fn kind(node: &dyn TableProvider) -> String {
    let debug = format!("{node:?}");
    debug
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("unknown")
        .to_string()
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        Ok(Arc::new(decode_memory(table_ref, buf, schema)?))
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        match node.downcast_ref::<MemTable>() {
            Some(mem) => encode_memory(table_ref, mem, buf),
            None => Err(plan_datafusion_err!(
                "table '{table_ref}' ({}) cannot run on a cluster: a cluster reads Parquet tables, views and in-memory tables",
                kind(node.as_ref())
            )),
        }
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf)
    }
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.ballista.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.ballista.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn memory_tables_round_trip_and_truncation_is_an_error() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
            ],
        )
        .expect("batch");
        let mem =
            MemTable::try_new(schema.clone(), vec![vec![batch.clone()], vec![]]).expect("table");
        let t = TableReference::bare("t");
        let mut buf = Vec::new();
        encode_memory(&t, &mem, &mut buf).expect("encodes");
        let back = decode_memory(&t, &buf, schema.clone()).expect("decodes");
        assert_eq!(back.batches.len(), 2);
        let first = back.batches[0].try_read().expect("readable");
        assert_eq!(first.as_slice(), &[batch]);
        let e = decode_memory(&t, &buf[..buf.len() - 3], schema.clone()).expect_err("truncated");
        assert!(e.to_string().contains("table 't': truncated"), "{e}");
        // A partition count the payload cannot hold allocates nothing.
        let e = decode_memory(&t, &u32::MAX.to_le_bytes(), schema).expect_err("a lie");
        assert!(e.to_string().contains("truncated"), "{e}");
    }

    #[test]
    fn functions_without_a_workspace_travel_by_name() {
        let decay = workspace_bound::standalone("decay").expect("decay");
        let mut buf = Vec::new();
        encode_udf(&decay, &mut buf).expect("encodes");
        assert!(buf.is_empty());
        assert_eq!(decode_udf("decay", &buf).expect("decodes").name(), "decay");
        let e = decode_udf("no_such_function", &[]).expect_err("unknown");
        assert!(
            e.to_string()
                .contains("no SQL function named 'no_such_function'"),
            "{e}"
        );
    }
}
