pub struct ClientSession;
