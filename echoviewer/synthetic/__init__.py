"""Echo phantom generator with exact ground truth (`echoviewer synth`).

    generate_phantom(seed_or_rng, **params) -> Phantom     one loop: frames + truth + params
    write_dataset(out_dir, n, seed, ...)                     an EchoNet-Dynamic folder + Truth/*.npz
    ensure_demo_study(dest=None) -> Path                     the demo study (generated once)
"""

from echoviewer.synthetic.phantom import Phantom, PhantomTruth, generate_phantom


def write_dataset(*args, **kwargs):
    from echoviewer.synthetic.dataset import write_dataset as _w

    return _w(*args, **kwargs)


def ensure_demo_study(dest=None):
    from echoviewer.synthetic.demo import ensure_demo_study as _e

    return _e(dest)


__all__ = ["Phantom", "PhantomTruth", "generate_phantom", "write_dataset", "ensure_demo_study"]
