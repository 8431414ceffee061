"""Data-parallel training under tf.distribute strategies.

MirroredStrategy (several devices of one machine) works with plain
`model.fit` inside `strategy.scope()`. Keras 3's `model.fit` does not run
under MultiWorkerMirroredStrategy (keras-team/keras#20585: it reduces the
first input batch across workers and fails), so `train` is the training loop
for any strategy: each replica computes its batch's gradients, the strategy
all-reduces them and every replica applies the same update, so the workers'
weights stay identical.

Several machines: start the same script on every machine with TF_CONFIG
naming all workers and this one's index, e.g. on worker 1 of 2:

    TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]},
                "task": {"type": "worker", "index": 1}}' python train.py

and in the script create `tf.distribute.MultiWorkerMirroredStrategy()`
first, then build the model and optimizer inside `strategy.scope()`.
Each worker reads the whole dataset; the strategy shards it by batch.
"""

import tensorflow as tf


def train(strategy, model, optimizer, loss_fn, dataset, epochs,
          global_batch_size):
    """Trains `model` (built in strategy.scope()) on `dataset` (batches of
    global_batch_size (inputs, targets)) for `epochs`; returns the mean loss
    of each epoch. loss_fn(targets, predictions) -> per-example losses."""
    with strategy.scope():
        if not model.built:  # subclassed models create weights on a call
            model(next(iter(dataset))[0])
        optimizer.build(model.trainable_variables)
    batches = strategy.experimental_distribute_dataset(dataset)

    def replica_step(inputs, targets):
        with tf.GradientTape() as tape:
            predictions = model(inputs, training=True)
            loss = tf.nn.compute_average_loss(
                loss_fn(targets, predictions),
                global_batch_size=global_batch_size)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def step(batch):
        losses = strategy.run(replica_step, args=batch)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    history = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for batch in batches:
            total += float(step(batch))
            count += 1
        history.append(total / max(count, 1))
    return history
