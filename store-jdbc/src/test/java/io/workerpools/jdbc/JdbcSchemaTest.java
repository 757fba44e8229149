package io.workerpools.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Infrastructure;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The shipped schema, the opt-in creation, and the builder's checks. */
@ExtendWith(PostgresExtension.class)
class JdbcSchemaTest {

  @Test
  void withoutTheTablesTheStoreRefusesToStartAndNamesTheSchemaFile(TestDatabase db) {
    assertThatThrownBy(() -> JdbcInfrastructureStore.builder(db.dataSource()).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("schema-postgresql.sql")
        .hasMessageContaining("createSchemaIfMissing(true)");
  }

  @Test
  void theShippedSchemaAppliedByHandIsEnoughAndIsIdempotent(TestDatabase db) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute(JdbcInfrastructureStore.schemaSql());
      st.execute(JdbcInfrastructureStore.schemaSql());
    }
    try (JdbcInfrastructureStore s = JdbcInfrastructureStore.builder(db.dataSource()).build();
        JdbcInfrastructureStore again =
            JdbcInfrastructureStore.builder(db.dataSource()).createSchemaIfMissing(true).build()) {
      assertThat(s.infrastructure()).isEqualTo(Infrastructure.initial());
      assertThat(again.infrastructure()).isEqualTo(Infrastructure.initial());
    }
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
}
