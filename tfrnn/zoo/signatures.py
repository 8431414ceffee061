"""The zoo models' serving signatures: raw strings in and out where the
task is text, input checks inside the graph. Each zoo model returns its own
from `serving_signatures(**options)`; tfrnn.export traces them with tfrnn's
ops lowered to stock TensorFlow and saves them.

Each builder returns (a tf.Module holding the weights and vocabularies,
{signature name: tf.function}, warmup requests [(signature name, example
inputs)]).
"""

import tensorflow as tf

from tfrnn.data.vocab import END, PAD, START
from tfrnn.export.signatures import (MAX_BEAM_WIDTH, SCALAR_INT, STRINGS,
                                     check, left_padded, signature_holder)
from tfrnn.zoo.decoding import beam_search


def char_lstm_signatures(model, max_prompt_length=2000,
                         max_generate_length=5000, top_k=None):
    if model.stateful:  # serving runs independent requests: no carry
        config = {**model.get_config(), "stateful": False}
        copy = type(model).from_config(config)
        copy(tf.zeros([1, 1], tf.int32))
        copy.set_weights(model.get_weights())
        model = copy
    vocab = model.vocabulary

    def sampling_checks(max_length, temperature, seed):
        return [
            check(temperature > 0, "temperature must be > 0"),
            check((max_length >= 0) & (max_length <= max_generate_length),
                   f"max_length must be in [0, {max_generate_length}]"),
            check((seed >= -2 ** 31) & (seed < 2 ** 31),
                   "seed must be an int32 (another seed would wrap onto "
                   "it)")]

    @tf.function(input_signature=[STRINGS, SCALAR_INT,
                                  tf.TensorSpec([], tf.float32),
                                  tf.TensorSpec([], tf.int64)])
    def generate(prompt, max_length, temperature, seed):
        """prompt + up to max_length sampled characters, per prompt.
        Characters the model never saw read as its unknown id; prompts keep
        their last max_prompt_length characters."""
        ids = vocab.encode(prompt)
        checks = [check(tf.reduce_all(ids.row_lengths() > 0),
                         "every prompt needs at least one character")]
        checks += sampling_checks(max_length, temperature, seed)
        with tf.control_dependencies(checks):
            ids = left_padded(ids[:, -max_prompt_length:])
            out = model.generate_ids_graph(
                ids, max_length, greedy=False, temperature=temperature,
                top_k=top_k, seed=tf.cast(seed, tf.int32))
        generated = vocab.decode(out)
        return {"text": tf.strings.join([prompt, generated]),
                "generated": generated}

    @tf.function(input_signature=[STRINGS, SCALAR_INT,
                                  tf.TensorSpec([], tf.float32),
                                  tf.TensorSpec([], tf.int64)])
    def generate_until_end(prompt, max_length, temperature, seed):
        """One line per prompt (which may be empty), as a per-line model
        (`tfrnn train charlstm --lines`) learnt them: START, the prompt,
        then sampled characters until the model emits END or max_length
        of them. `text` and `generated` stop at the end; `ended` says
        whether the model ended the line itself."""
        ids = vocab.encode(prompt)[:, -max_prompt_length:]
        starts = tf.RaggedTensor.from_tensor(
            tf.fill([tf.shape(prompt)[0], 1], START))
        with tf.control_dependencies(sampling_checks(max_length,
                                                     temperature, seed)):
            out = model.generate_ids_graph(
                left_padded(tf.concat([starts, ids], axis=1)), max_length,
                greedy=False, temperature=temperature, top_k=top_k,
                seed=tf.cast(seed, tf.int32), until_end=True)
        generated = vocab.decode(out)
        return {"text": tf.strings.join([prompt, generated]),
                "generated": generated,
                "ended": tf.reduce_any(tf.equal(out, END), axis=1)}

    @tf.function(input_signature=[STRINGS])
    def score(text):
        """Log-likelihood of each text's characters after its first."""
        ids = vocab.encode(text)[:, :max_prompt_length]
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        # Two PAD columns more: even all-empty texts give one model step.
        dense = tf.pad(ids.to_tensor(default_value=PAD), [[0, 0], [0, 2]])
        total, count = model.log_likelihood(dense, lengths)
        return {"log_likelihood": total,
                "nats_per_char": tf.math.divide_no_nan(
                    -total, tf.cast(count, tf.float32)),
                "chars_scored": count}

    first = model.tokens[0]
    warmup = [("generate", {"prompt": [first, first * 3], "max_length": 8,
                            "temperature": 1.0, "seed": 0}),
              ("generate_until_end", {"prompt": ["", first],
                                      "max_length": 8, "temperature": 1.0,
                                      "seed": 0}),
              ("score", {"text": [first * 4]})]
    return signature_holder(model, vocab), {
        "generate": generate, "generate_until_end": generate_until_end,
        "score": score, "serving_default": generate}, warmup


def seq2seq_signatures(model, max_source_length=1000):
    source, target = model.source_vocabulary, model.target_vocabulary

    @tf.function(input_signature=[STRINGS, SCALAR_INT])
    def translate(text, beam_width):
        """Each text decoded with beam search (width 1: greedy)."""
        checks = [check((beam_width >= 1) & (beam_width <= MAX_BEAM_WIDTH),
                         f"beam_width must be in [1, {MAX_BEAM_WIDTH}]")]
        with tf.control_dependencies(checks):
            ids = source.encode(text)[:, :max_source_length]
            ids = ids.to_tensor(default_value=PAD)
            out = beam_search(model, ids, beam_width, model.max_decode_length,
                              0.6)
        return {"translation": target.decode(out)}

    warmup = [("translate", {"text": [model.source_tokens[0]],
                             "beam_width": 2})]
    return signature_holder(model, source, target), {
        "translate": translate, "serving_default": translate}, warmup


def classifier_signatures(model, max_length=5000):
    def outputs(logits):
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32))
        return {"probabilities": probabilities,
                "label": tf.argmax(probabilities, -1, output_type=tf.int32)}

    if model.vocabulary is not None:
        vocab = model.vocabulary

        @tf.function(input_signature=[STRINGS])
        def classify(text):
            """Class probabilities and label of each text."""
            ids = vocab.encode(text)[:, :max_length]
            return outputs(model(ids.to_tensor(default_value=PAD)))

        warmup_input = [model.tokens[0] * 3]
        holder = signature_holder(model, vocab)
    else:
        if model.vocab_size:
            spec = tf.TensorSpec([None, None], tf.int32)
            warmup_input = [[1, 2, 3]]
        else:
            features = model.feature_size
            spec = tf.TensorSpec([None, None, features], tf.float32)
            warmup_input = [[[0.0] * features]]

        @tf.function(input_signature=[spec])
        def classify(sequence):
            """Class probabilities and label of each sequence (int ids
            padded with 0, or float features)."""
            return outputs(model(sequence))

        holder = signature_holder(model)
    name = "text" if model.vocabulary is not None else "sequence"
    return holder, {"classify": classify, "serving_default": classify}, [
        ("classify", {name: warmup_input})]


def generator_signatures(model):
    features = model.initial_h.kernel.shape[0]

    @tf.function(input_signature=[
        tf.TensorSpec([None, features], tf.float32), SCALAR_INT])
    def generate(features, beam_width):
        """The sequence each conditioning vector decodes to."""
        checks = [check((beam_width >= 1) & (beam_width <= MAX_BEAM_WIDTH),
                         f"beam_width must be in [1, {MAX_BEAM_WIDTH}]")]
        with tf.control_dependencies(checks):
            out = beam_search(model, features, beam_width,
                              model.max_decode_length, 0.6)
        return {"text": model.target_vocabulary.decode(out)}

    return signature_holder(model, model.target_vocabulary), {
        "generate": generate, "serving_default": generate}, [
        ("generate", {"features": [[0.0] * features], "beam_width": 1})]
