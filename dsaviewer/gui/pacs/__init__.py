"""PACS in the viewer: node preferences, the query/retrieve dialog, and the DICOM export and
send actions."""
