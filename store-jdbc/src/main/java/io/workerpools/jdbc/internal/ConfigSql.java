package io.workerpools.jdbc.internal;

import io.workerpools.ConfigurationException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.StoreEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration's and the workers' runtime state's SQL: stateless; callers own connections,
 * transactions and the change log.
 */
public final class ConfigSql {
  private ConfigSql() {}

  /** Everything {@link #load} read. */
  public record Loaded(
      Infrastructure infrastructure, Map<WorkerId, HealthReport> health, List<WorkerId> draining) {}

  /** Inserts or updates a pool; {@code position} null keeps it (or puts a new one last). */
  public static void upsertPool(Connection c, WorkerPool p, Long position) throws SQLException {
    String pos = position == null ? "(SELECT coalesce(max(position) + 1, 0) FROM wp_pools)" : "?";
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO wp_pools (id, name, description, position) VALUES (?, ?, ?, "
                + pos
                + ") ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                + " description = excluded.description"
                + (position == null ? "" : ", position = excluded.position"))) {
      ps.setString(1, p.id().value());
      ps.setString(2, p.name());
      ps.setString(3, p.description());
      if (position != null) {
        ps.setLong(4, position);
      }
      ps.executeUpdate();
    }
  }

  public static void deletePool(Connection c, PoolId pool) throws SQLException {
    Jdbc.update(c, "DELETE FROM wp_pools WHERE id = ?", pool.value());
  }

  /** Inserts or updates a worker and makes sure it has a state row. */
  public static void upsertWorker(Connection c, Worker w, Long position) throws SQLException {
    String pos = position == null ? "(SELECT coalesce(max(position) + 1, 0) FROM wp_workers)" : "?";
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO wp_workers (id, name, enabled, max_leases, body, position)"
                + " VALUES (?, ?, ?, ?, ?, "
                + pos
                + ") ON CONFLICT (id) DO UPDATE SET name = excluded.name, enabled = excluded.enabled,"
                + " max_leases = excluded.max_leases, body = excluded.body"
                + (position == null ? "" : ", position = excluded.position"))) {
      ps.setString(1, w.id().value());
      ps.setString(2, w.name());
      ps.setBoolean(3, w.enabled());
      if (w.maxConcurrentSteps().isPresent()) {
        ps.setInt(4, w.maxConcurrentSteps().getAsInt());
      } else {
        ps.setNull(4, Types.INTEGER);
      }
      ps.setString(5, Codec.worker(w));
      if (position != null) {
        ps.setLong(6, position);
      }
      ps.executeUpdate();
    }
    Jdbc.update(
        c,
        "INSERT INTO wp_worker_state (worker_id) VALUES (?) ON CONFLICT DO NOTHING",
        w.id().value());
  }

  /** Deletes a worker; its state row stays (its lease counter), cleared of health and draining. */
  public static void deleteWorker(Connection c, WorkerId id) throws SQLException {
    Jdbc.update(c, "DELETE FROM wp_workers WHERE id = ?", id.value());
    Jdbc.update(
        c,
        "UPDATE wp_worker_state SET draining = false, health = NULL WHERE worker_id = ?",
        id.value());
  }

  public static void writeSettings(Connection c, Infrastructure next) throws SQLException {
    Jdbc.update(
        c,
        "UPDATE wp_settings SET default_pool = ?, built_in_enabled = ? WHERE id = 1",
        next.defaultPool().value(),
        next.builtInWorkerEnabled());
  }

  public static void writeHealth(Connection c, WorkerId worker, HealthReport report)
      throws SQLException {
    Jdbc.update(
        c,
        "UPDATE wp_worker_state SET health = ? WHERE worker_id = ?",
        Codec.health(report),
        worker.value());
  }

  public static void writeDraining(Connection c, WorkerId worker, boolean drain)
      throws SQLException {
    Jdbc.update(
        c, "UPDATE wp_worker_state SET draining = ? WHERE worker_id = ?", drain, worker.value());
  }

  /** Replaces {@code prev} with {@code next}; returns the events that tell the difference. */
  public static List<StoreEvent> replace(Connection c, Infrastructure prev, Infrastructure next)
      throws SQLException {
    List<StoreEvent> events = new ArrayList<>();
    for (Worker w : prev.workers().values()) {
      if (!next.workers().containsKey(w.id())) {
        deleteWorker(c, w.id());
        events.add(new StoreEvent.WorkerRemoved(w));
      }
    }
    long pos = 0;
    for (WorkerPool p : next.pools().values()) {
      upsertPool(c, p, pos++);
      if (!p.equals(prev.pools().get(p.id()))) {
        events.add(new StoreEvent.PoolPut(p));
      }
    }
    pos = 0;
    for (Worker w : next.workers().values()) {
      upsertWorker(c, w, pos++);
      Worker old = prev.workers().get(w.id());
      if (!w.equals(old)) {
        events.add(new StoreEvent.WorkerPut(old, w));
      }
    }
    for (PoolId p : prev.pools().keySet()) {
      if (!next.pools().containsKey(p)) {
        deletePool(c, p);
        events.add(new StoreEvent.PoolRemoved(p));
      }
    }
    writeSettings(c, next);
    if (!prev.defaultPool().equals(next.defaultPool())) {
      events.add(new StoreEvent.DefaultPoolMoved(prev.defaultPool(), next.defaultPool()));
    }
    if (prev.builtInWorkerEnabled() != next.builtInWorkerEnabled()) {
      events.add(new StoreEvent.BuiltInWorkerSwitched(next.builtInWorkerEnabled()));
    }
    return events;
  }

  /** Reads the configuration, health and draining. */
  public static Loaded load(Connection c) throws SQLException {
    PoolId defaultPool;
    boolean builtIn;
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT default_pool, built_in_enabled FROM wp_settings WHERE id = 1")) {
      if (!rs.next()) {
        throw new ConfigurationException(
            "wp_settings",
            "has no row; apply "
                + Schema.DIRECTORY
                + "V1__initial.sql (it inserts the initial row) or build the store with"
                + " migrateSchema(true)");
      }
      defaultPool = PoolId.of(rs.getString(1));
      builtIn = rs.getBoolean(2);
    }
    Map<PoolId, WorkerPool> pools = new LinkedHashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT id, name, description FROM wp_pools ORDER BY position, id")) {
      while (rs.next()) {
        WorkerPool p = new WorkerPool(PoolId.of(rs.getString(1)), rs.getString(2), rs.getString(3));
        pools.put(p.id(), p);
      }
    }
    Map<WorkerId, Worker> workers = new LinkedHashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT body FROM wp_workers ORDER BY position, id")) {
      while (rs.next()) {
        Worker w = Codec.worker(rs.getString(1));
        workers.put(w.id(), w);
      }
    }
    Map<WorkerId, HealthReport> h = new HashMap<>();
    List<WorkerId> d = new ArrayList<>();
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT s.worker_id, s.draining, s.health FROM wp_worker_state s"
                    + " JOIN wp_workers w ON w.id = s.worker_id"
                    + " WHERE s.draining OR s.health IS NOT NULL")) {
      while (rs.next()) {
        WorkerId id = WorkerId.of(rs.getString(1));
        if (rs.getBoolean(2)) {
          d.add(id);
        }
        HealthReport r = Codec.health(rs.getString(3));
        if (r != null) {
          h.put(id, r);
        }
      }
    }
    return new Loaded(new Infrastructure(pools, workers, defaultPool, builtIn), h, d);
  }
}
