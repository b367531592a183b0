// What Metabase's sync and DBeaver's navigator send to a PostgreSQL server, replayed
// through the same PostgreSQL JDBC driver both use (run by tests/serve.rs).
//
// The statements are the ones their PostgreSQL support issues, taken from their
// sources (Metabase: src/metabase/driver/postgres.clj and sql_jdbc/sync/*.clj, 2025
// master; DBeaver: plugins/org.jkiss.dbeaver.ext.postgresql, 24.2), with parameters
// bound as they bind them (pgjdbc: a Java long as int8, a String as varchar). Metabase
// builds its SQL with HoneySQL; the text here is that SQL written out.
//
// Each step prints "ok NAME ..." or "fail NAME: message"; a step marked essential is
// one whose failure makes the tool fail (Metabase aborts the sync, DBeaver fails the
// connection or the navigator node), the others are caught by the tool.
// Usage: java -cp postgresql.jar:. BiSync PORT USER PASSWORD
import java.sql.*;
import java.util.*;

public class BiSync {
    static Connection c;

    interface Step { String run() throws SQLException; }

    static void step(String name, Step s) {
        try {
            System.out.println("ok " + name + " " + s.run());
        } catch (SQLException e) {
            System.out.println("fail " + name + ": " + e.getMessage().replace('\n', ' '));
        }
    }

    /** Runs a query with parameters (Long → setLong, String → setString); returns
     *  the rows as lists of strings. */
    static List<List<String>> rows(String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                if (params[i] instanceof Long) ps.setLong(i + 1, (Long) params[i]);
                else ps.setString(i + 1, (String) params[i]);
            }
            List<List<String>> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<String> row = new ArrayList<>();
                    for (int i = 1; i <= n; i++) row.add(rs.getString(i));
                    out.add(row);
                }
            }
            return out;
        }
    }

    /** The values of column `col` (0-based) of the rows whose column `key` is `value`. */
    static List<String> pick(List<List<String>> rows, int key, String value, int col) {
        List<String> out = new ArrayList<>();
        for (List<String> r : rows) if (value.equals(r.get(key))) out.add(r.get(col));
        return out;
    }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", args[1]);
        p.setProperty("password", args[2]);
        p.setProperty("sslmode", "disable");
        // Metabase sets ApplicationName: pgjdbc then sends SET application_name at connect.
        p.setProperty("ApplicationName", "Metabase v0.52.0 [leadql-test]");
        c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/leadql", p);

        // ---- Metabase: connection test, connection setup, sync ----
        step("metabase.select_1 essential", () -> rows("SELECT 1").get(0).get(0));
        step("metabase.is_valid essential", () -> String.valueOf(c.isValid(5)));
        step("metabase.isolation", () -> {
            try (Statement s = c.createStatement()) {
                s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
            }
            return "";
        });
        step("metabase.schemas essential", () -> {
            List<String> schemas = new ArrayList<>();
            try (ResultSet rs = c.getMetaData().getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            return String.join(",", schemas);
        });
        step("metabase.privileges essential", () -> {
            String sql = String.join("\n",
                "with table_privileges as (",
                " select",
                "   NULL as role,",
                "   t.schemaname as schema,",
                "   t.objectname as table,",
                "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'update') as update,",
                "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'select') as select,",
                "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'insert') as insert,",
                "   pg_catalog.has_table_privilege(     current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'delete') as delete",
                " from (",
                "   select schemaname, tablename as objectname from pg_catalog.pg_tables",
                "   union",
                "   select schemaname, viewname as objectname from pg_catalog.pg_views",
                "   union",
                "   select schemaname, matviewname as objectname from pg_catalog.pg_matviews",
                " ) t",
                " where t.schemaname !~ '^pg_'",
                "   and t.schemaname <> 'information_schema'",
                "   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')",
                ")",
                "select t.*",
                "from table_privileges t");
            List<List<String>> r = rows(sql);
            // columns: role, schema, table, update, select, insert, delete
            List<String> readable = new ArrayList<>();
            for (List<String> row : r) if ("t".equals(row.get(4))) readable.add(row.get(1) + "." + row.get(2));
            Collections.sort(readable);
            return "selectable=" + String.join(",", readable);
        });
        step("metabase.tables essential", () -> {
            String sql = "SELECT \"n\".\"nspname\" AS \"schema\", \"c\".\"relname\" AS \"name\", "
                + "CASE \"c\".\"relkind\" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS \"type\", "
                + "\"d\".\"description\" AS \"description\", \"stat\".\"n_live_tup\" AS \"estimated_row_count\" "
                + "FROM \"pg_catalog\".\"pg_class\" AS \"c\" "
                + "INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"n\" ON \"c\".\"relnamespace\" = \"n\".\"oid\" "
                + "LEFT JOIN \"pg_catalog\".\"pg_description\" AS \"d\" ON (\"c\".\"oid\" = \"d\".\"objoid\") AND (\"d\".\"objsubid\" = ?) AND (\"d\".\"classoid\" = 'pg_class'::regclass) "
                + "LEFT JOIN \"pg_stat_user_tables\" AS \"stat\" ON (\"n\".\"nspname\" = \"stat\".\"schemaname\") AND (\"c\".\"relname\" = \"stat\".\"relname\") "
                + "WHERE (\"c\".\"relnamespace\" = \"n\".\"oid\") AND (\"n\".\"nspname\" !~ ?) AND (\"n\".\"nspname\" <> ?) AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND (\"n\".\"nspname\" IN (?)) "
                + "ORDER BY \"type\" ASC, \"schema\" ASC, \"name\" ASC";
            List<List<String>> r = rows(sql, 0L, "^pg_", "information_schema", "public");
            List<String> out = new ArrayList<>();
            for (List<String> row : r) out.add(row.get(1) + ":" + row.get(2));
            return String.join(",", out);
        });
        step("metabase.timezone", () -> rows("show timezone;").get(0).get(0));
        step("metabase.enums essential", () -> String.valueOf(rows(
            "SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)").size()));
        step("metabase.fields essential", () -> {
            String sql = "SELECT \"c\".\"column_name\" AS \"name\", "
                + "CASE WHEN \"c\".\"udt_schema\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"c\".\"udt_name\") ELSE FORMAT('\"%s\".\"%s\"', \"c\".\"udt_schema\", \"c\".\"udt_name\") END AS \"database-type\", "
                + "\"c\".\"ordinal_position\" - 1 AS \"database-position\", "
                + "\"c\".\"table_schema\" AS \"table-schema\", \"c\".\"table_name\" AS \"table-name\", "
                + "\"pk\".\"column_name\" IS NOT NULL AS \"pk?\", "
                + "COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST(\"c\".\"table_schema\" AS TEXT), CAST(\"c\".\"table_name\" AS TEXT)) AS REGCLASS) AS OID), \"c\".\"ordinal_position\") AS \"field-comment\", "
                + "((\"column_default\" IS NULL) OR (LOWER(\"column_default\") = 'null')) AND (\"is_nullable\" = 'NO') AND NOT (((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO')) AS \"database-required\", "
                + "((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO') AS \"database-is-auto-increment\" "
                + "FROM \"information_schema\".\"columns\" AS \"c\" "
                + "LEFT JOIN (SELECT \"tc\".\"table_schema\", \"tc\".\"table_name\", \"kc\".\"column_name\" "
                + "FROM \"information_schema\".\"table_constraints\" AS \"tc\" "
                + "INNER JOIN \"information_schema\".\"key_column_usage\" AS \"kc\" "
                + "ON (\"tc\".\"constraint_name\" = \"kc\".\"constraint_name\") AND (\"tc\".\"table_schema\" = \"kc\".\"table_schema\") AND (\"tc\".\"table_name\" = \"kc\".\"table_name\") "
                + "WHERE \"tc\".\"constraint_type\" = 'PRIMARY KEY') AS \"pk\" "
                + "ON (\"c\".\"table_schema\" = \"pk\".\"table_schema\") AND (\"c\".\"table_name\" = \"pk\".\"table_name\") AND (\"c\".\"column_name\" = \"pk\".\"column_name\") "
                + "WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"table_schema\" IN (?)) "
                + "UNION ALL "
                + "SELECT \"pa\".\"attname\" AS \"name\", "
                + "CASE WHEN \"ptn\".\"nspname\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"pt\".\"typname\") ELSE FORMAT('\"%s\".\"%s\"', \"ptn\".\"nspname\", \"pt\".\"typname\") END AS \"database-type\", "
                + "\"pa\".\"attnum\" - 1 AS \"database-position\", "
                + "\"pn\".\"nspname\" AS \"table-schema\", \"pc\".\"relname\" AS \"table-name\", "
                + "FALSE AS \"pk?\", NULL AS \"field-comment\", FALSE AS \"database-required\", FALSE AS \"database-is-auto-increment\" "
                + "FROM \"pg_catalog\".\"pg_class\" AS \"pc\" "
                + "INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"pn\" ON \"pn\".\"oid\" = \"pc\".\"relnamespace\" "
                + "INNER JOIN \"pg_catalog\".\"pg_attribute\" AS \"pa\" ON \"pa\".\"attrelid\" = \"pc\".\"oid\" "
                + "INNER JOIN \"pg_catalog\".\"pg_type\" AS \"pt\" ON \"pt\".\"oid\" = \"pa\".\"atttypid\" "
                + "INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"ptn\" ON \"ptn\".\"oid\" = \"pt\".\"typnamespace\" "
                + "WHERE (\"pc\".\"relkind\" = 'm') AND (\"pa\".\"attnum\" >= 1) AND (\"pn\".\"nspname\" IN (?)) "
                + "ORDER BY \"table-schema\" ASC, \"table-name\" ASC, \"database-position\" ASC";
            List<List<String>> r = rows(sql, "public", "public");
            List<String> leads = new ArrayList<>();
            for (List<String> row : r) if ("leads".equals(row.get(4))) leads.add(row.get(2) + ":" + row.get(0) + ":" + row.get(1));
            return "leads=" + String.join(",", leads);
        });
        step("metabase.fks", () -> String.valueOf(rows(
            "SELECT \"fk_ns\".\"nspname\" AS \"fk-table-schema\", \"fk_table\".\"relname\" AS \"fk-table-name\", \"fk_column\".\"attname\" AS \"fk-column-name\", "
            + "\"pk_ns\".\"nspname\" AS \"pk-table-schema\", \"pk_table\".\"relname\" AS \"pk-table-name\", \"pk_column\".\"attname\" AS \"pk-column-name\" "
            + "FROM \"pg_constraint\" AS \"c\" "
            + "INNER JOIN \"pg_class\" AS \"fk_table\" ON \"c\".\"conrelid\" = \"fk_table\".\"oid\" "
            + "INNER JOIN \"pg_namespace\" AS \"fk_ns\" ON \"c\".\"connamespace\" = \"fk_ns\".\"oid\" "
            + "INNER JOIN \"pg_attribute\" AS \"fk_column\" ON \"c\".\"conrelid\" = \"fk_column\".\"attrelid\" "
            + "INNER JOIN \"pg_class\" AS \"pk_table\" ON \"c\".\"confrelid\" = \"pk_table\".\"oid\" "
            + "INNER JOIN \"pg_namespace\" AS \"pk_ns\" ON \"pk_table\".\"relnamespace\" = \"pk_ns\".\"oid\" "
            + "INNER JOIN \"pg_attribute\" AS \"pk_column\" ON \"c\".\"confrelid\" = \"pk_column\".\"attrelid\" "
            + "WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"contype\" = 'f'::char) AND (\"fk_column\".\"attnum\" = ANY(c.conkey)) AND (\"pk_column\".\"attnum\" = ANY(c.confkey)) "
            + "AND (\"fk_table\".\"relname\" IN (?)) AND (\"fk_ns\".\"nspname\" IN (?)) "
            + "ORDER BY \"fk-table-schema\" ASC, \"fk-table-name\" ASC", "leads", "public").size()));

        // ---- DBeaver: connect, then Schemas → public → Tables → leads → Columns ----
        step("dbeaver.client_info", () -> { c.setClientInfo("ApplicationName", "DBeaver 24.2.3 - Metadata <leadql>"); return ""; });
        step("dbeaver.current_schema", () -> String.join(",", rows("SELECT current_schema(),session_user").get(0)));
        step("dbeaver.search_path", () -> rows("SHOW search_path").get(0).get(0));
        step("dbeaver.database", () -> String.valueOf(rows("SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=?", "leadql").size()));
        step("dbeaver.settings", () -> String.valueOf(rows("select * from pg_catalog.pg_settings where name=?", "standard_conforming_strings").size()));
        step("dbeaver.version", () -> rows("SELECT version()").get(0).get(0));
        step("dbeaver.enum_probe", () -> String.valueOf(rows("SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1").size()));
        step("dbeaver.reltype_probe", () -> String.valueOf(rows("SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1").size()));
        step("dbeaver.types essential", () -> String.valueOf(rows(
            "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description\n"
            + "FROM pg_catalog.pg_type t\n"
            + "LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem \n"
            + "LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid\n"
            + "LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid\n"
            + "WHERE t.typname IS NOT NULL\n"
            + "AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')").size()));
        final long[] oids = new long[2];
        step("dbeaver.schemas essential", () -> {
            List<List<String>> r = rows(
                "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass\n"
                + " ORDER BY nspname");
            List<String> names = new ArrayList<>();
            for (List<String> row : r) names.add(row.get(2));
            oids[0] = Long.parseLong(pick(r, 2, "public", 0).get(0));
            return String.join(",", names);
        });
        step("dbeaver.tables essential", () -> {
            List<List<String>> r = rows(
                "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key \n"
                + "FROM pg_catalog.pg_class c\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass\n"
                + "WHERE c.relnamespace=? AND c.relkind not in ('i','I','c')", oids[0]);
            // c.* starts with oid again: relname is column 2 (0-based) of the select.
            List<String> names = new ArrayList<>();
            for (List<String> row : r) names.add(row.get(2));
            Collections.sort(names);
            oids[1] = Long.parseLong(pick(r, 2, "leads", 0).get(0));
            return String.join(",", names);
        });
        step("dbeaver.columns essential", () -> {
            List<List<String>> r = rows(
                "SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid\n"
                + "FROM pg_catalog.pg_attribute a\n"
                + "INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)\n"
                + "LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)\n"
                + "LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid\n"
                + "WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=?\n"
                + "ORDER BY a.attnum", oids[1]);
            List<String> names = new ArrayList<>();
            for (List<String> row : r) names.add(row.get(2));
            return String.join(",", names);
        });
        c.close();
    }
}
