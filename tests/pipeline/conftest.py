import pytest

from echoviewer.io.loop import Loop
from echoviewer.synthetic.phantom import generate_phantom


@pytest.fixture(scope="session")
def phantom():
    return generate_phantom(7, hr=75, fps=50, n_beats=4, ef=45, ef_sd=0)


@pytest.fixture
def phantom_loop(phantom):
    return Loop.from_frames(phantom.frames, fps=phantom.fps, cm_per_pixel=phantom.truth.cm_per_pixel,
                            path="<phantom7>")
