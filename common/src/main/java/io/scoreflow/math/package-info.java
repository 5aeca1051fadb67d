/** Numerical building blocks shared by the science packages: quadrature, least squares. */
package io.scoreflow.math;
