/**
 * What every command of a run shares (train, sample, eval, the coordinator and the workers), so it
 * lives apart from any one of them: addresses as users give them ({@link
 * io.scoreflow.run.HostPort}), the run directory and its rules ({@link
 * io.scoreflow.run.RunDirectory}), building the SDE, data and network of a config ({@link
 * io.scoreflow.run.TrainSetup}, with how a network's output becomes a score, {@link
 * io.scoreflow.run.Parametrisation}, and how data are scaled for it, {@link
 * io.scoreflow.run.DataScaler}), and the typed settings every command reads the same way ({@link
 * io.scoreflow.run.TrainSettings}; {@link io.scoreflow.run.ElasticBatch}, the one rule for the
 * global batch of a ring of another size).
 */
package io.scoreflow.run;
