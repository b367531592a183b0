// A JDBC client of `leadql serve` (run by tests/serve.rs with Debian's PostgreSQL JDBC
// driver): a prepared statement with parameters, typed columns of score_leads, the
// catalog through DatabaseMetaData, and Statement.cancel on a long query.
// Usage: java -cp postgresql.jar:. LeadqlJdbc PORT USER PASSWORD
import java.sql.*;
import java.util.concurrent.*;

public class LeadqlJdbc {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/leadql?sslmode=disable";
        try (Connection c = DriverManager.getConnection(url, args[1], args[2])) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT lead_id, score, grade, sales_ready, as_of FROM score_leads('engagement') "
                    + "WHERE score > ? ORDER BY score DESC, lead_id LIMIT 3")) {
                ps.setDouble(1, 40.0);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long id = rs.getLong(1);
                        double score = rs.getDouble(2);
                        String grade = rs.getString(3);
                        boolean ready = rs.getBoolean(4);
                        Timestamp asOf = rs.getTimestamp(5);
                        System.out.println("row " + id + " " + score + " " + grade + " " + ready + " " + asOf);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*) FROM leads WHERE country = ? AND created_at < ?")) {
                ps.setString(1, "DE");
                ps.setTimestamp(2, Timestamp.valueOf("2026-01-01 00:00:00"));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    System.out.println("count " + rs.getLong(1));
                }
            }
            DatabaseMetaData meta = c.getMetaData();
            try (ResultSet rs = meta.getTables(null, "public", "leads", new String[] {"TABLE"})) {
                while (rs.next()) {
                    System.out.println("table " + rs.getString("TABLE_NAME"));
                }
            }
            try (ResultSet rs = meta.getColumns(null, "public", "leads", null)) {
                while (rs.next()) {
                    System.out.println("column " + rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME"));
                }
            }
            try (Statement s = c.createStatement()) {
                ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
                timer.schedule(() -> {
                    try { s.cancel(); } catch (SQLException e) { throw new RuntimeException(e); }
                }, 2, TimeUnit.SECONDS);
                long started = System.nanoTime();
                try {
                    s.executeQuery("SELECT count(*) FROM generate_series(1, 100000000000)");
                    System.out.println("cancel did not stop the query");
                } catch (SQLException e) {
                    System.out.println("cancelled " + e.getSQLState() + " after "
                        + (System.nanoTime() - started) / 1_000_000_000 + " s: " + e.getMessage());
                }
                timer.shutdown();
            }
        }
    }
}
