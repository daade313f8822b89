"""PACS: find studies on a DICOM node, pull them into a local study cache, send results back.

Two doors to the same archive, one interface (``model.Client``): DIMSE with pynetdicom (``dimse``:
C-ECHO, C-FIND, C-GET / C-MOVE, C-STORE) and DICOMweb with dicomweb-client (``dicomweb``: QIDO-RS,
WADO-RS, STOW-RS). Nodes and the app's own AE title are kept in ``nodes``; ``client.open_client``
picks the door a node uses. ``retrieve`` copies a study's ultrasound instances into a folder
(resuming: only what is missing), ``cache`` keeps retrieved studies under a size limit, ``send``
stores files or a study's clinical outputs. After a retrieve a study is just a folder.

No Qt here, and no patient data in logs: the only names and IDs are in what is returned to the
caller, who shows them to the user.
"""
