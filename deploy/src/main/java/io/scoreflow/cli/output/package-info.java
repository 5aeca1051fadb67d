/**
 * What every command's output shares: JSON reports ({@link io.scoreflow.cli.output.Json}), the
 * progress line of long work ({@link io.scoreflow.cli.output.Progress}), and number and parameter
 * formats ({@link io.scoreflow.cli.output.Describe}).
 */
package io.scoreflow.cli.output;
