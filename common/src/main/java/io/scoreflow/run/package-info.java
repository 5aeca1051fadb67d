/**
 * What every command of a run shares: addresses as users give them ({@link
 * io.scoreflow.run.HostPort}), and (as the layout work proceeds) the run directory and the typed
 * run settings.
 */
package io.scoreflow.run;
