/**
 * The key-value stores on the fabric: Clover, pDPM-Direct and pDPM-Central (DESIGN §3). This
 * module holds only the stores; it never depends on Flink.
 */
package org.pdpm.core;
