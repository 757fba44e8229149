package io.workerpools.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import io.workerpools.store.LeaseRecord;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The versioned schema: creation, migration from 0.1 with data in it, and the builder's checks. */
@ExtendWith(PostgresExtension.class)
class JdbcSchemaTest {

  @Test
  void withoutTheTablesTheStoreRefusesToStartAndSaysHowToCreateThem(TestDatabase db) {
    assertThatThrownBy(() -> JdbcInfrastructureStore.builder(db.dataSource()).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("no WorkerPools tables")
        .hasMessageContaining("migrateSchema(true)")
        .hasMessageContaining(JdbcInfrastructureStore.SCHEMA_DIRECTORY);
  }

  @Test
  void theShippedMigrationsAppliedByHandAreEnoughAndMigratingAgainChangesNothing(TestDatabase db)
      throws Exception {
    exec(db, JdbcInfrastructureStore.schemaSql());
    try (JdbcInfrastructureStore s = JdbcInfrastructureStore.builder(db.dataSource()).build();
        JdbcInfrastructureStore again =
            JdbcInfrastructureStore.builder(db.dataSource()).migrateSchema(true).build()) {
      assertThat(s.infrastructure()).isEqualTo(Infrastructure.initial());
      assertThat(again.infrastructure()).isEqualTo(Infrastructure.initial());
    }
    assertThat(versions(db)).containsExactly(1, 2);
  }

  @Test
  void aDatabaseMadeBy01IsRefusedUntilMigratedAndKeepsItsDataWhenMigrated(TestDatabase db)
      throws Exception {
    exec(db, resource("/io/workerpools/jdbc/schema-0.1.sql"));
    Instant acquired = Instant.parse("2026-05-06T07:08:09.123456789Z");
    Instant expires = acquired.plusSeconds(60);
    exec(
        db,
        "INSERT INTO wp_pools VALUES ('linux', 1, 'Linux', 'the linux pool');"
            + "INSERT INTO wp_workers VALUES ('w1', 0, 'one', true, 2,"
            + " '{\"id\":\"w1\",\"name\":\"one\",\"endpoint\":{\"kind\":\"ssh\",\"address\":\"h:22\","
            + "\"properties\":{}},\"pools\":[\"linux\"],\"enabled\":true,"
            + "\"syntaxes\":[\"BASH\"],\"maxConcurrentSteps\":2,\"labels\":{}}');"
            + "INSERT INTO wp_worker_state (worker_id, active_leases, draining) VALUES ('w1', 1,"
            + " true);"
            + "INSERT INTO wp_leases VALUES ('l1', 'w1', 'linux', 'old-node', 'step-1', "
            + acquired.getEpochSecond()
            + ", "
            + acquired.getNano()
            + ", "
            + expires.getEpochSecond()
            + ", "
            + expires.getNano()
            + ")");
    assertThatThrownBy(() -> JdbcInfrastructureStore.builder(db.dataSource()).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("schema version 1")
        .hasMessageContaining("needs " + JdbcInfrastructureStore.SCHEMA_VERSION)
        .hasMessageContaining("V2__nodes_and_database_clock.sql")
        .hasMessageContaining("migrateSchema(true)");
    try (JdbcInfrastructureStore s =
        JdbcInfrastructureStore.builder(db.dataSource()).migrateSchema(true).build()) {
      assertThat(s.infrastructure().pools().get(PoolId.of("linux")).description())
          .isEqualTo("the linux pool");
      assertThat(s.infrastructure().workers().get(WorkerId.of("w1")).maxConcurrentSteps())
          .hasValue(2);
      assertThat(s.draining()).containsExactly(WorkerId.of("w1"));
      assertThat(s.leases())
          .containsExactly(
              new LeaseRecord(
                  "l1",
                  WorkerId.of("w1"),
                  PoolId.of("linux"),
                  "old-node",
                  "step-1",
                  Instant.parse("2026-05-06T07:08:09.123456Z"),
                  Instant.parse("2026-05-06T07:09:09.123456Z")));
      assertThat(s.releaseLease("l1")).as("the migrated lease is a lease").isTrue();
    }
    assertThat(versions(db)).containsExactly(1, 2);
  }

  @Test
  void aSchemaNewerThanTheCodeIsRefusedNamingTheVersions(TestDatabase db) throws Exception {
    exec(db, JdbcInfrastructureStore.schemaSql());
    exec(db, "INSERT INTO wp_schema_version (version, description) VALUES (99, 'future')");
    assertThatThrownBy(
            () -> JdbcInfrastructureStore.builder(db.dataSource()).migrateSchema(true).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("schema version 99")
        .hasMessageContaining("upgrade workerpools-store-jdbc");
  }

  @Test
  void theBuilderRejectsOutOfRangeOptionsNamingThem(TestDatabase db) {
    var b = JdbcInfrastructureStore.builder(db.dataSource());
    assertThatThrownBy(() -> b.pollInterval(Duration.ofMillis(1)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("pollInterval")
        .hasMessageContaining("but was PT0.001S");
    assertThatThrownBy(() -> b.changeRetention(Duration.ofSeconds(5)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("changeRetention");
    assertThatThrownBy(() -> b.nodeId(" "))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nodeId");
  }

  private static void exec(TestDatabase db, String sql) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static List<Integer> versions(TestDatabase db) throws Exception {
    List<Integer> out = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT version FROM wp_schema_version ORDER BY 1")) {
      while (rs.next()) {
        out.add(rs.getInt(1));
      }
    }
    return out;
  }

  private static String resource(String name) throws Exception {
    try (InputStream in = JdbcSchemaTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
