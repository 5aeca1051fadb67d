/**
 * The theory lab: exact Wasserstein-2 error of the Euler–Maruyama sampler on Gaussian data through
 * its closed Gaussian recursion, the iteration-complexity table of Gao, Nguyen and Zhu, and sweeps
 * of W2 against the number of steps.
 */
package io.scoreflow.theory;
