/**
 * Reverse-time samplers over a score function: the paper's Euler–Maruyama scheme first; other
 * samplers are additions, never replacements.
 */
package io.scoreflow.sample;
