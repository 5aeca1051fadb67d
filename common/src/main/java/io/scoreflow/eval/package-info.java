/**
 * Evaluation of samples: Fréchet distances between feature statistics, and W2 against synthetic
 * data whose law is known.
 */
package io.scoreflow.eval;
