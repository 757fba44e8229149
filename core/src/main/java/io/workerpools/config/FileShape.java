package io.workerpools.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * The file's records, exactly as written: every field optional at this level (absent is null), so
 * that {@link ModelMapping} can say which required field is missing, with its path and line. No
 * polymorphic typing: the file cannot name Java classes.
 */
final class FileShape {
  private FileShape() {}

  @JsonPropertyOrder({"defaultPool", "builtInWorkerEnabled", "pools", "workers"})
  record FileModel(
      String defaultPool,
      Boolean builtInWorkerEnabled,
      List<PoolModel> pools,
      List<WorkerModel> workers) {}

  @JsonPropertyOrder({"id", "name", "description", "default"})
  record PoolModel(
      String id, String name, String description, @JsonProperty("default") Boolean isDefault) {}

  @JsonPropertyOrder({
    "id",
    "name",
    "endpoint",
    "pools",
    "enabled",
    "syntaxes",
    "maxConcurrentSteps",
    "labels"
  })
  record WorkerModel(
      String id,
      String name,
      EndpointModel endpoint,
      List<String> pools,
      Boolean enabled,
      List<String> syntaxes,
      Integer maxConcurrentSteps,
      Map<String, String> labels) {}

  @JsonPropertyOrder({"kind", "address", "properties"})
  record EndpointModel(String kind, String address, Map<String, String> properties) {}
}
