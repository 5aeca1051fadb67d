/**
 * {@code scoreflow sweep}: a spec of many training jobs ({@link io.scoreflow.cli.sweep.SweepSpec}),
 * run over one pool of local workers, with {@code status}, {@code cancel} and a results table.
 */
package io.scoreflow.cli.sweep;
