/**
 * Forward SDEs {@code dx = -f(t) x dt + g(t) dB} of Gao, Nguyen and Zhu: the VP and VE families
 * with closed forms for the mean coefficient {@code a1} and transition variance {@code a2}, and a
 * generic schedule from user-given f and g through adaptive quadrature.
 */
package io.scoreflow.sde;
