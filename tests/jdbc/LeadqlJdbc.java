// A JDBC client of `leadql serve` (run by tests/serve.rs with Debian's PostgreSQL JDBC
// driver): a prepared statement with parameters, typed columns of score_leads, the
// catalog through DatabaseMetaData, and Statement.cancel on a long query; or, with the
// argument `fetch`, a result far larger than the Java heap read with setFetchSize
// (the driver then asks for 500 rows at a time: Execute with a row limit, the server
// answering PortalSuspended), which runs out of memory unless the server suspends.
// With `revoke COMMAND…`, the same read runs COMMAND (a `leadql user remove`) after its
// first batch and reads on: the next batch must fail (the login no longer holds).
// Usage: java -cp postgresql.jar:. LeadqlJdbc PORT USER PASSWORD [fetch | revoke COMMAND…]
import java.sql.*;
import java.util.concurrent.*;

public class LeadqlJdbc {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/leadql?sslmode=disable";
        if (args.length > 3 && args[3].equals("fetch")) {
            fetch(url, args[1], args[2]);
            return;
        }
        if (args.length > 4 && args[3].equals("revoke")) {
            revoke(url, args[1], args[2], java.util.Arrays.copyOfRange(args, 4, args.length));
            return;
        }
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

    static void fetch(String url, String user, String password) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT value, repeat('x', ?) AS padding FROM generate_series(1, 100000)")) {
                ps.setFetchSize(500);
                ps.setInt(1, 2000);
                long rows = 0, sum = 0, chars = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        sum += rs.getLong(1);
                        chars += rs.getString(2).length();
                    }
                }
                System.out.println("fetched " + rows + " sum " + sum + " chars " + chars);
            }
            c.commit();
        }
    }

    static void revoke(String url, String user, String password, String[] command) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT value FROM generate_series(1, 100000)")) {
                ps.setFetchSize(500);
                long rows = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    try {
                        while (rs.next()) {
                            rows++;
                            if (rows == 500) {
                                Process p = new ProcessBuilder(command).inheritIO().start();
                                System.out.println("command exit " + p.waitFor());
                            }
                        }
                        System.out.println("read all " + rows);
                    } catch (SQLException e) {
                        System.out.println("stopped after " + rows + " SQLSTATE " + e.getSQLState() + " " + e.getMessage());
                    }
                }
            }
        }
    }
}
