/** Real models on the attn4j engine: weight readers, tokenizers, forward passes. */
package org.attn4j.models;
